import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pix2StructModel } from '../../../model-runtime/src/model';
import { decodeImage } from '../../../model-runtime/src/preprocess/decode-image';
import { proposeElements } from '../../../model-runtime/src/tasks/element-proposals';
import { findElement } from '../../../model-runtime/src/tasks/index';
import { makeRefExpModel, REFEXP_FALSE_ID, REFEXP_TRUE_ID, UI_TEXT } from '../../helpers/refexp-model';
import { after, before, describe, it } from './harness';
import { EXTENSION_ID, vscode, workspaceFolder, type Uri } from './vscode-api';

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
interface FindElementResult {
  candidates: Box[];
  ranked: { box: Box; candidate: number; pTrue: number }[];
  proposed: boolean;
}
interface TreeNode {
  id: string;
  text?: string;
  children: TreeNode[];
}
interface Highlight {
  box: Box | null;
  source: 'find' | 'tree';
  nodeId?: string;
  note?: string;
}

const config = () => vscode.workspace.getConfiguration('pix2struct');
const MAX_PATCHES = 256;

/** Polls what the panel reports it highlights until `ok` holds (the webview answers asynchronously). */
async function panelHighlight(ok: (h: Highlight | undefined) => boolean, what: string, timeoutMs = 60_000): Promise<Highlight> {
  const deadline = Date.now() + timeoutMs;
  let last: Highlight | undefined;
  while (Date.now() < deadline) {
    last = await vscode.commands.executeCommand<Highlight | undefined>('pix2struct.panelHighlight');
    if (ok(last)) return last!;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the panel never highlighted ${what}; last report ${JSON.stringify(last)}`);
}

/**
 * The fixture's model-a: the workspace's pix2struct.modelPath, unless an earlier suite reset it,
 * then where the runner found the fixture (PIX2STRUCT_FIXTURE, else beside the repository).
 */
function fixtureModel(): string {
  const configured = config().get<string>('modelPath');
  if (configured && fs.existsSync(path.join(configured, 'config.json'))) return configured;
  const extensionPath = (vscode.extensions.getExtension(EXTENSION_ID) as unknown as { extensionPath: string }).extensionPath;
  return path.join(process.env.PIX2STRUCT_FIXTURE ?? path.join(extensionPath, '../shared/fixtures/pix2struct-tiny'), 'model-a');
}

describe('Find Element and UI-structure boxes', () => {
  let refexp: string;
  let screenshot: Uri;
  let model: Pix2StructModel;
  /** The runtime's own ranking for a phrase over the proposals for the UI image. */
  const direct = async (phrase: string) => {
    const pixels = await decodeImage(screenshot.fsPath);
    const candidates = await proposeElements(pixels);
    const ranked = await findElement(model, pixels, phrase, candidates, { trueTokenId: REFEXP_TRUE_ID, falseTokenId: REFEXP_FALSE_ID, maxPatches: MAX_PATCHES, batchSize: 4 });
    return { candidates, ranked };
  };

  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    const modelA = fixtureModel();
    const ws = workspaceFolder().fsPath;
    refexp = makeRefExpModel(modelA, path.join(ws, 'refexp-model'));
    fs.copyFileSync(path.join(path.dirname(modelA), 'images/ui_360x740.png'), path.join(ws, 'ui_360x740.png'));
    screenshot = vscode.Uri.joinPath(workspaceFolder(), 'ui_360x740.png');
    await config().update('refexpModelPath', refexp, vscode.ConfigurationTarget.Workspace);
    await config().update('uiModelPath', refexp, vscode.ConfigurationTarget.Workspace);
    await config().update('maxPatches', MAX_PATCHES, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', 20, vscode.ConfigurationTarget.Workspace);
    model = await Pix2StructModel.load(refexp);
  });
  after(async () => {
    await model?.release();
    for (const key of ['refexpModelPath', 'uiModelPath', 'maxPatches', 'maxNewTokens']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('Find Element ranks the proposals as the runtime does and the panel highlights the best box', async () => {
    const phrase = 'the search icon';
    const result = await vscode.commands.executeCommand<FindElementResult | undefined>('pix2struct.findElement', screenshot, phrase);
    assert.ok(result, 'pix2struct.findElement returned nothing (see the Pix2Struct log)');
    const expected = await direct(phrase);
    assert.equal(result.proposed, true);
    assert.deepEqual(result.candidates, expected.candidates);
    assert.ok(result.candidates.length > 1, `only ${result.candidates.length} candidates`);
    assert.deepEqual(result.ranked.map((r) => r.candidate), expected.ranked.map((r) => r.candidate));
    const best = expected.candidates[expected.ranked[0]!.candidate]!;
    const shown = await panelHighlight((h) => h?.source === 'find' && h.box !== null, 'the best box');
    assert.deepEqual(shown.box, best);
  }, 240_000);

  it('hovering a node of a parsed UI tree highlights the box its text grounds to', async () => {
    const parsed = await vscode.commands.executeCommand<{ text: string | null; tree?: TreeNode } | undefined>('pix2struct.parseUiStructure', screenshot);
    assert.ok(parsed?.tree, `no UI tree (text ${JSON.stringify(parsed?.text)})`);
    assert.equal(parsed.text, UI_TEXT, 'the fixture model, decoded with the test tokenizer, spells a small UI tree');
    const node = parsed.tree.children[0]!.children[1]!;
    assert.equal(node.text, 'Wi‐Fi');
    await vscode.commands.executeCommand('pix2struct.hoverTreeNode', node.id);
    const shown = await panelHighlight((h) => h?.source === 'tree' && h.nodeId === node.id && h.box !== null, `node ${node.id}`);
    const expected = await direct(node.text!);
    assert.deepEqual(shown.box, expected.candidates[expected.ranked[0]!.candidate]);
    // Leaving the tree clears the highlight; coming back shows the cached box again.
    await vscode.commands.executeCommand('pix2struct.hoverTreeNode', null);
    await panelHighlight((h) => h?.source === 'tree' && h.box === null, 'nothing after leaving the tree');
    await vscode.commands.executeCommand('pix2struct.hoverTreeNode', node.id);
    const again = await panelHighlight((h) => h?.source === 'tree' && h.nodeId === node.id && h.box !== null, `node ${node.id} again`, 2_000);
    assert.deepEqual(again.box, shown.box);
  }, 240_000);

  it('without a RefExp model at hand, hovering a node highlights nothing and says why', async () => {
    await config().update('refexpModelPath', 'nobody/refexp-not-downloaded', vscode.ConfigurationTarget.Workspace);
    try {
      // A fresh parse: a new tree whose nodes have no boxes yet.
      const parsed = await vscode.commands.executeCommand<{ tree?: TreeNode } | undefined>('pix2struct.parseUiStructure', screenshot);
      const node = parsed!.tree!.children[0]!.children[2]!;
      await vscode.commands.executeCommand('pix2struct.hoverTreeNode', node.id);
      const shown = await panelHighlight((h) => h?.source === 'tree' && h.nodeId === node.id && h.note !== undefined && !/^Looking/.test(h.note), `a note for node ${node.id}`);
      assert.equal(shown.box, null);
      assert.match(shown.note!, /"nobody\/refexp-not-downloaded" is not downloaded.*pix2struct\.refexpModelPath/);
    } finally {
      await config().update('refexpModelPath', refexp, vscode.ConfigurationTarget.Workspace);
    }
  }, 120_000);
});
