import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from './harness';
import { EXTENSION_ID, vscode, workspaceFolder, type Uri } from './vscode-api';

interface DescribeResult {
  tokenIds: number[];
}

const config = () => vscode.workspace.getConfiguration('pix2struct');

describe('Capture Screenshot and Ask About Image', () => {
  after(async () => {
    await config().update('questionModelPath', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('captures the (virtual X) display into a PNG and shows it', async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    assert.ok(process.env.DISPLAY, 'no DISPLAY in the extension host: the runner starts Xvfb');
    const file = await vscode.commands.executeCommand<Uri | undefined>('pix2struct.captureScreenshot');
    assert.ok(file, 'capture returned nothing (see the Pix2Struct log)');
    const png = fs.readFileSync(file.fsPath);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    // IHDR width and height: the runner's Xvfb screen is 1024x768.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1024, 768]);
  }, 120_000);

  it('asks a question with a VQA checkpoint: the question becomes the header the model sees', async () => {
    const base = config().get<string>('modelPath')!;
    const vqa = path.join(workspaceFolder().fsPath, 'vqa-model');
    fs.mkdirSync(vqa, { recursive: true });
    for (const f of fs.readdirSync(base)) fs.copyFileSync(path.join(base, f), path.join(vqa, f));
    const cfg = JSON.parse(fs.readFileSync(path.join(vqa, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(vqa, 'config.json'), JSON.stringify({ ...cfg, is_vqa: true }));
    await config().update('questionModelPath', vqa, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', 12, vscode.ConfigurationTarget.Workspace);
    const image = vscode.Uri.joinPath(workspaceFolder(), 'chart_640x480.png');
    const ask = (q: string) => vscode.commands.executeCommand<DescribeResult | undefined>('pix2struct.askAboutImage', image, q);
    const a = await ask('What is the highest value?');
    const b = await ask('Which region is lowest?');
    assert.ok(a && b, 'no answer (see the Pix2Struct log)');
    assert.equal(a.tokenIds[0], 0);
    assert.notDeepEqual(a.tokenIds, b.tokenIds, 'different questions give different inputs');
    const again = await ask('What is the highest value?');
    assert.deepEqual(again?.tokenIds, a.tokenIds, 'the same question gives the same answer');
  }, 240_000);
});
