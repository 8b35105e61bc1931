import * as assert from 'node:assert/strict';
import { describe, it } from './harness';
import { EXTENSION_ID, vscode } from './vscode-api';

// The commands users reach from the palette (category "Pix2Struct").
const COMMANDS = [
  'pix2struct.captureScreenshot',
  'pix2struct.openImage',
  'pix2struct.describeImage',
  'pix2struct.askAboutImage',
  'pix2struct.summarizeScreen',
  'pix2struct.parseUiStructure',
  'pix2struct.chartToTable',
  'pix2struct.captionWidget',
  'pix2struct.manageModels',
  'pix2struct.showLog',
  'pix2struct.enableCuda',
];

describe('activation', () => {
  it(`extension ${EXTENSION_ID} is installed and activates`, async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found (extensionDevelopmentPath wrong?)`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers the pix2struct commands, every one the manifest contributes', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const contributed = (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes?.commands ?? []).map((c) => c.command);
    assert.deepEqual(COMMANDS.filter((c) => !contributed.includes(c)), [], 'missing from the manifest');
    const missing = [...new Set([...COMMANDS, ...contributed])].filter((c) => !all.has(c));
    assert.deepEqual(missing, [], `commands not registered: ${missing.join(', ')}`);
  });

  it('reads the workspace setting pix2struct.modelPath', () => {
    const modelPath = vscode.workspace.getConfiguration('pix2struct').get<string>('modelPath');
    assert.ok(modelPath && modelPath.endsWith('model-a'), `pix2struct.modelPath is ${modelPath}`);
  });
});
