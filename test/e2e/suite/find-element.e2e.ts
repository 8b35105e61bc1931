import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pix2StructModel } from '../../../model-runtime/src/model';
import { decodeImage } from '../../../model-runtime/src/preprocess/decode-image';
import { proposeElements } from '../../../model-runtime/src/tasks/element-proposals';
import { findElement } from '../../../model-runtime/src/tasks/index';
import { makeRefExpModel, REFEXP_FALSE_ID, REFEXP_TRUE_ID, UI_TEXT } from '../../helpers/refexp-model';
import { after, before, describe, it } from './harness';
import { inPanel, panelEval, waitInPanel } from './panel-driver';
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

const config = () => vscode.workspace.getConfiguration('pix2struct');
const MAX_PATCHES = 256;

/**
 * The boxes the panel draws over the image, in image pixels (read back from their position
 * relative to the image), the emphasised one first; null until the image has loaded.
 */
const DRAWN = `(() => {
  const img = document.getElementById('image');
  if (!img.naturalWidth) return null;
  const boxes = Array.from(document.querySelectorAll('.find-highlights .find-box')).sort((a, b) => b.classList.contains('best') - a.classList.contains('best'));
  return boxes.map((el) => {
    const i = img.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const k = img.naturalWidth / i.width;
    return { x0: Math.round((r.left - i.left) * k), y0: Math.round((r.top - i.top) * k), x1: Math.round((r.right - i.left) * k), y1: Math.round((r.bottom - i.top) * k) };
  });
})()`;

/** Waits until the panel draws exactly `box` (or nothing, for null). */
async function waitForDrawn(box: Box | null, what: string, timeoutMs = 60_000): Promise<void> {
  const want = JSON.stringify(box ? [box] : []);
  await waitInPanel(`JSON.stringify(${DRAWN}) === ${JSON.stringify(want)}`, `${what}: ${want}`, timeoutMs).catch(async (err) => {
    throw new Error(`${(err as Error).message}; drawn ${JSON.stringify(await panelEval(DRAWN))}`);
  });
}

const nodeItem = (id: string) => `li[data-node-id="${id}"]`;

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
    return { candidates, ranked, best: candidates[ranked[0]!.candidate]! };
  };
  const parseUi = async () => {
    const parsed = await vscode.commands.executeCommand<{ text: string | null; tree?: TreeNode } | undefined>('pix2struct.parseUiStructure', screenshot);
    assert.ok(parsed?.tree, `no UI tree (text ${JSON.stringify(parsed?.text)})`);
    assert.equal(parsed.text, UI_TEXT, 'the fixture model, decoded with the test tokenizer, spells a small UI tree');
    await waitInPanel(`document.querySelector('${nodeItem('0.0.6')}') !== null`, 'the UI tree in the panel');
    return parsed.tree.children[0]!.children;
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
    model = await Pix2StructModel.load(refexp, { precision: 'fp32' }); // the workspace runs fp32 too
  });
  after(async () => {
    await model?.release();
    for (const key of ['refexpModelPath', 'uiModelPath', 'maxPatches', 'maxNewTokens']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('Find Element ranks the proposals as the runtime does; the panel draws the best box and lists the top ones', async () => {
    const phrase = 'the search icon';
    const result = await vscode.commands.executeCommand<FindElementResult | undefined>('pix2struct.findElement', screenshot, phrase);
    assert.ok(result, 'pix2struct.findElement returned nothing (see the Pix2Struct log)');
    const expected = await direct(phrase);
    assert.equal(result.proposed, true);
    assert.deepEqual(result.candidates, expected.candidates);
    assert.ok(result.candidates.length > 5, `only ${result.candidates.length} candidates`);
    assert.deepEqual(result.ranked.map((r) => r.candidate), expected.ranked.map((r) => r.candidate));
    await waitForDrawn(expected.best, 'the best box');
    const listed = await panelEval<string[]>(`Array.from(document.querySelectorAll('#find-results li')).map((li) => li.textContent)`);
    assert.equal(listed.length, 5);
    assert.match(listed[0]!, new RegExp(`^${(result.ranked[0]!.pTrue * 100).toFixed(1)}% · `));
    // Hovering the second entry shows its box; leaving the list shows the best one again.
    await inPanel({ op: 'hover', selector: '#find-results li:nth-child(2)' });
    await waitForDrawn(expected.candidates[expected.ranked[1]!.candidate]!, 'the second box while its entry is hovered', 10_000);
    await inPanel({ op: 'hover', selector: '#task' });
    await waitForDrawn(expected.best, 'the best box after leaving the list', 10_000);
  }, 240_000);

  it('hovering or focusing a UI-tree node draws the box its text grounds to, asked once per node', async () => {
    const nodes = await parseUi();
    assert.deepEqual(nodes.slice(1, 3).map((n) => n.text), ['Wi‐Fi', 'Bluetooth']);
    // The command's run puts its task in the picker, and the Find phrase box goes away with Find.
    assert.equal(await panelEval<string>(`document.getElementById('task').value`), 'ui');
    assert.equal(await panelEval<boolean>(`document.getElementById('phrase').hidden`), true);
    await inPanel({ op: 'hover', selector: nodeItem('0.0.1') });
    const wifi = await direct('Wi‐Fi');
    await waitForDrawn(wifi.best, 'the box of "Wi‐Fi"');
    assert.match(await panelEval<string>(`document.querySelector('${nodeItem('0.0.1')}').title`), /^Box found by the RefExp model/);
    // Leaving the tree clears it; coming back shows the kept box at once.
    await inPanel({ op: 'hover', selector: '#task' });
    await waitForDrawn(null, 'nothing after leaving the tree', 10_000);
    await inPanel({ op: 'hover', selector: nodeItem('0.0.1') });
    await waitForDrawn(wifi.best, 'the kept box of "Wi‐Fi"', 1_000);
    await inPanel({ op: 'hover', selector: '#task' });
    // Keyboard: focus the Wi‐Fi item, then ArrowDown moves focus (tree-keys) to Bluetooth.
    await inPanel({ op: 'press', selector: nodeItem('0.0.1'), key: 'ArrowDown' });
    assert.equal(await panelEval<string>(`document.activeElement.dataset.nodeId`), '0.0.2');
    const bluetooth = await direct('Bluetooth');
    await waitForDrawn(bluetooth.best, 'the box of "Bluetooth" after ArrowDown');
  }, 240_000);

  it('without a RefExp model at hand, hovering a node draws nothing and its tooltip says why', async () => {
    await config().update('refexpModelPath', 'nobody/refexp-not-downloaded', vscode.ConfigurationTarget.Workspace);
    try {
      await parseUi(); // a new tree: its nodes have no boxes yet
      await inPanel({ op: 'hover', selector: nodeItem('0.0.3') });
      const title = await waitInPanel<string>(
        `(() => { const t = document.querySelector('${nodeItem('0.0.3')}').title; return /not downloaded/.test(t) && t; })()`,
        'the tooltip of an ungrounded node',
      );
      assert.match(title, /"nobody\/refexp-not-downloaded" is not downloaded.*pix2struct\.refexpModelPath/);
      await waitForDrawn(null, 'no box', 2_000);
    } finally {
      await config().update('refexpModelPath', refexp, vscode.ConfigurationTarget.Workspace);
    }
  }, 120_000);
});
