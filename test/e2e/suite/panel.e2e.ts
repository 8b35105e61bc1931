// The panel in a real VS Code: zoom keeps drawn boxes in image pixels, crop writes the expected
// image, Insert as Alt Text / Generate Alt Text fill a Markdown reference with the fixture
// model's result, and the task picker shows each checkpoint's state. Panel input goes through the
// runner's playwright (panel-driver.ts): real mouse drags, wheel, clicks and keys.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from './harness';
import { inPanel, panelEval, waitInPanel } from './panel-driver';
import { EXTENSION_ID, vscode as api, workspaceFolder, type Thenable, type Uri } from './vscode-api';

// The part of the API these tests use beyond vscode-api.ts.
interface Position {
  line: number;
  character: number;
}
interface TextDocument {
  uri: Uri;
  getText(): string;
  positionAt(offset: number): Position;
}
interface TextEditor {
  document: TextDocument;
  selection: unknown;
  edit(change: (builder: { replace(range: unknown, text: string): void }) => void): Thenable<boolean>;
}
interface CodeAction {
  title: string;
  command?: { command: string; arguments?: unknown[] };
}
const vscode = api as typeof api & {
  window: { showTextDocument(doc: TextDocument, options?: { viewColumn?: number; preserveFocus?: boolean }): Thenable<TextEditor> };
  workspace: { openTextDocument(uri: Uri): Thenable<TextDocument> };
  Selection: new (anchor: Position, active: Position) => unknown;
  Range: new (start: Position, end: Position) => unknown;
};

const config = () => vscode.workspace.getConfiguration('pix2struct');
const chart = () => vscode.Uri.joinPath(workspaceFolder(), 'chart_640x480.png');
/** The runner's fixture (same default as run-extension-tests.ts; this file runs from dist/test/e2e/suite). */
const FIXTURE_ROOT = path.resolve(process.env.PIX2STRUCT_FIXTURE ?? path.join(__dirname, '../../../../../shared/fixtures/pix2struct-tiny'));
const FIXTURE = () => path.dirname(config().get<string>('modelPath')!);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PanelBox {
  box: [number, number, number, number];
  /** The overlay's rectangle relative to the image, in CSS pixels. */
  rel: [number, number, number, number];
  scale: number;
}
/** The widget box overlay: its box in image pixels and where it is drawn over the image. */
const readOverlay = (selector: string) =>
  panelEval<PanelBox | null>(`(() => {
    const o = document.querySelector(${JSON.stringify(selector)});
    const img = document.getElementById('image');
    if (!o || !o.dataset.box || o.style.display === 'none') return null;
    const r = o.getBoundingClientRect(), i = img.getBoundingClientRect();
    return { box: o.dataset.box.split(',').map(Number), rel: [r.left - i.left, r.top - i.top, r.right - i.left, r.bottom - i.top], scale: i.width / img.naturalWidth };
  })()`);
const zoomScale = () => panelEval<number>(`Number(document.getElementById('viewport').dataset.zoom)`);

function assertNear(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tolerance, `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)} (±${tolerance})`));
}

/** Drags on the image from/to CSS offsets and checks the box (image pixels) and its overlay. */
async function drawAndCheck(selector: string, from: [number, number], to: [number, number]): Promise<PanelBox> {
  const scale = await zoomScale();
  // Zooming keeps the view's centre; draw from the image's top-left corner, which must be in view.
  await panelEval(`document.getElementById('viewport').scrollTo(0, 0)`);
  await inPanel({ op: 'drag', selector: '#image', from, to });
  const drawn = await readOverlay(selector);
  assert.ok(drawn, 'no box was drawn');
  // What the user meant: the CSS offsets divided by the zoom, in image pixels.
  const expected = [from[0] / scale, from[1] / scale, to[0] / scale, to[1] / scale];
  assertNear(drawn.box, expected, 1.01, `box at zoom ${scale}`);
  assertNear(drawn.rel, drawn.box.map((v) => v * scale), 1.5, `overlay at zoom ${scale}`);
  return drawn;
}

describe('panel', () => {
  const extraFiles: string[] = [];
  let restoreModelPath = false;
  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    // Earlier suites may have reset the workspace's modelPath: these tests need the tiny model.
    const modelPath = config().get<string>('modelPath');
    if (!modelPath || !fs.existsSync(path.join(modelPath, 'config.json'))) {
      await config().update('modelPath', path.join(FIXTURE_ROOT, 'model-a'), vscode.ConfigurationTarget.Workspace);
      restoreModelPath = true;
    }
  });
  after(async () => {
    for (const key of ['questionModelPath', 'summaryModelPath', 'maxPatches', 'maxNewTokens']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    for (const f of extraFiles) fs.rmSync(f, { force: true });
    if (restoreModelPath) await config().update('modelPath', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('zoom (buttons, keys, Ctrl+wheel) keeps the widget box in image pixels', async () => {
    await vscode.commands.executeCommand('pix2struct.captionWidget', chart());
    await waitInPanel(`document.getElementById('image').naturalWidth === 640 && document.getElementById('viewport').dataset.zoom`, 'the chart in the panel');
    await inPanel({ op: 'click', selector: '#zoom-100' });
    assert.equal(await zoomScale(), 1);
    const at100 = await drawAndCheck('.box-overlay:not(.crop-overlay)', [60, 40], [250, 190]);

    // Zooming moves nothing on the image: the same box, drawn at the new scale.
    await inPanel({ op: 'press', selector: '#viewport', key: '+' });
    await inPanel({ op: 'press', selector: '#viewport', key: '+' });
    const scale = await zoomScale();
    assert.ok(scale > 1.4, `two zoom-in steps from 100% give ${scale}`);
    const after = await readOverlay('.box-overlay:not(.crop-overlay)');
    assert.deepEqual(after?.box, at100.box, 'the box kept its image pixels');
    assertNear(after!.rel, at100.box.map((v) => v * scale), 1.5, 'overlay after zooming in');
    await drawAndCheck('.box-overlay:not(.crop-overlay)', [90, 60], [270, 225]);

    await inPanel({ op: 'press', selector: '#viewport', key: '0' });
    assert.equal(await panelEval(`document.getElementById('viewport').dataset.zoomMode`), 'fit');
    const fit = await zoomScale();
    await drawAndCheck('.box-overlay:not(.crop-overlay)', [20, 30], [200, 150]);

    // Ctrl+wheel zooms in around the pointer: the image pixel under it stays put.
    await inPanel({ op: 'click', selector: '#zoom-100' });
    await panelEval(`document.getElementById('viewport').scrollTo(0, 0)`);
    const pixelUnder = `(() => { const i = document.getElementById('image').getBoundingClientRect(); return [(window.__p2sX - i.left) / (i.width / 640), (window.__p2sY - i.top) / (i.width / 640)]; })()`;
    await panelEval(`(() => { const img = document.getElementById('image'); document.getElementById('viewport').addEventListener('wheel', (e) => { window.__p2sX = e.clientX; window.__p2sY = e.clientY; }, { capture: true }); return true; })()`);
    await inPanel({ op: 'wheel', selector: '#image', at: [150, 100], deltaY: -100, ctrl: true });
    await sleep(300);
    const wheeled = await zoomScale();
    assert.ok(wheeled > 1, `Ctrl+wheel up zooms in (scale ${wheeled})`);
    assertNear(await panelEval<number[]>(pixelUnder), [150, 100], 2, 'image pixel under the pointer after Ctrl+wheel');
    await inPanel({ op: 'click', selector: '#zoom-out' });
    assert.ok((await zoomScale()) < wheeled, 'the zoom-out button zooms out');
    console.log(`zoom: 100% box ${at100.box}, fit scale ${fit.toFixed(3)}, Ctrl+wheel scale ${wheeled}`);
  }, 120_000);

  it('Capture Screenshot offers a crop; Enter writes the cropped PNG beside the capture and shows it', async () => {
    const file = await vscode.commands.executeCommand<Uri | undefined>('pix2struct.captureScreenshot');
    assert.ok(file, 'capture returned nothing (see the Pix2Struct log)');
    const name = path.basename(file.fsPath);
    await waitInPanel(
      `document.getElementById('image').alt === ${JSON.stringify(name)} && document.getElementById('image').naturalWidth > 0 && !document.querySelector('.crop-bar').hidden`,
      'the capture in crop mode',
    );
    const [width, height] = await panelEval<[number, number]>(`[document.getElementById('image').naturalWidth, document.getElementById('image').naturalHeight]`);
    const png = fs.readFileSync(file.fsPath);
    assert.deepEqual([width, height], [png.readUInt32BE(16), png.readUInt32BE(20)], 'the panel shows the capture');
    await inPanel({ op: 'click', selector: '#zoom-100' });
    const drawn = await drawAndCheck('.crop-overlay', [40, 30], [240, 180]);
    await inPanel({ op: 'press', selector: '#viewport', key: 'Enter' });
    const [x0, y0, x1, y1] = drawn.box;
    const croppedName = `${path.basename(name, '.png')}-crop-${x0}-${y0}-${x1 - x0}x${y1 - y0}.png`;
    await waitInPanel(`document.getElementById('image').alt === ${JSON.stringify(croppedName)} && document.getElementById('image').naturalWidth > 0`, `the crop ${croppedName} in the panel`);
    const cropped = path.join(path.dirname(file.fsPath), croppedName);
    assert.ok(fs.existsSync(cropped), `${cropped} was not written next to the capture`);
    const out = fs.readFileSync(cropped);
    assert.equal(out.subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual([out.readUInt32BE(16), out.readUInt32BE(20)], [x1 - x0, y1 - y0], 'the PNG has the drawn size');
    assert.deepEqual(await panelEval(`[document.getElementById('image').naturalWidth, document.getElementById('image').naturalHeight]`), [x1 - x0, y1 - y0]);
    assert.equal(await panelEval(`document.querySelector('.crop-bar').hidden`), true, 'crop mode ended');

    // Crop is there for any image, and Esc leaves it without writing anything.
    const before = fs.readdirSync(path.dirname(file.fsPath)).length;
    await inPanel({ op: 'click', selector: '#crop' });
    await inPanel({ op: 'drag', selector: '#image', from: [10, 10], to: [60, 50] });
    await inPanel({ op: 'press', selector: '#viewport', key: 'Escape' });
    assert.equal(await panelEval(`document.querySelector('.crop-bar').hidden`), true, 'Esc ends crop mode');
    await sleep(500);
    assert.equal(fs.readdirSync(path.dirname(file.fsPath)).length, before, 'Esc wrote no file');
  }, 120_000);

  it('Generate Alt Text (Quick Fix) and Insert as Alt Text put the fixture model result into a Markdown reference', async () => {
    const index = JSON.parse(fs.readFileSync(path.join(FIXTURE(), 'index.json'), 'utf8'));
    const greedy: number[] = index.models['model-a'].images.chart.greedy_ids;
    // model-a has no tokenizer, so its result is shown (and used as alt text) as the token ids.
    const expected = greedy.join(' ');
    await config().update('maxPatches', 256, vscode.ConfigurationTarget.Workspace);
    await config().update('maxNewTokens', greedy.length - 1, vscode.ConfigurationTarget.Workspace);

    const docFile = path.join(workspaceFolder().fsPath, 'notes', 'alt-text.md');
    fs.mkdirSync(path.dirname(docFile), { recursive: true });
    const before = '# Notes\n\nThe chart: ![old [alt]](../chart_640x480.png "Sales") and more.\n';
    fs.writeFileSync(docFile, before);
    extraFiles.push(docFile);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(docFile));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: 1 });
    const inside = doc.positionAt(before.indexOf('old'));
    editor.selection = new vscode.Selection(inside, inside);

    // The first request right after opening may come back empty while the document syncs.
    let actions: CodeAction[] = [];
    let generate: CodeAction | undefined;
    for (let attempt = 0; attempt < 20 && !generate; attempt++) {
      if (attempt > 0) await sleep(250);
      actions = await vscode.commands.executeCommand<CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, new vscode.Range(inside, inside));
      generate = actions.find((a) => a.title.startsWith('Generate alt text for chart_640x480.png'));
    }
    assert.ok(generate?.command, `no Generate Alt Text quick fix; got ${JSON.stringify(actions.map((a) => a.title))}`);
    const alt = await vscode.commands.executeCommand<string | undefined>(generate.command.command, ...(generate.command.arguments ?? []));
    assert.equal(alt, expected);
    assert.equal(doc.getText(), before.replace('old [alt]', expected), 'the alt text was replaced, the rest kept');
    // The panel streamed the same result.
    assert.equal(await waitInPanel(`document.getElementById('output').dataset.state === 'done' && document.getElementById('output').textContent`, 'the streamed result'), expected);

    // The panel button: back to the old alt, cursor on the reference, click Insert as Alt Text.
    await editor.edit((b) => b.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), before));
    assert.equal(doc.getText(), before);
    editor.selection = new vscode.Selection(inside, inside);
    await inPanel({ op: 'click', selector: '#alt-text' });
    await waitFor(() => doc.getText() === before.replace('old [alt]', expected), 'the alt text from the panel button');
    // Cursor away from any reference: a new reference is inserted, relative to the document.
    const end = doc.positionAt(doc.getText().length);
    editor.selection = new vscode.Selection(end, end);
    await inPanel({ op: 'click', selector: '#alt-text' });
    await waitFor(() => doc.getText().endsWith(`![${expected}](../chart_640x480.png)`), 'a new image reference at the cursor');
    // Insert at Cursor goes to the editor the user was in, although the click focused the panel.
    const before2 = doc.getText();
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(0));
    await inPanel({ op: 'click', selector: '#insert' });
    await waitFor(() => doc.getText() === expected + before2, 'Insert at Cursor');
  }, 240_000);

  it('history re-opens a result with its image (Run then acts on it); arrow keys move between entries', async () => {
    await config().update('maxNewTokens', 4, vscode.ConfigurationTarget.Workspace);
    const photo = path.join(workspaceFolder().fsPath, 'photo_1000x300.png');
    fs.copyFileSync(path.join(FIXTURE_ROOT, 'images', 'photo_1000x300.png'), photo);
    extraFiles.push(photo);
    const a = await vscode.commands.executeCommand<{ tokenIds: number[] }>('pix2struct.describeImage', chart());
    const b = await vscode.commands.executeCommand<{ tokenIds: number[] }>('pix2struct.describeImage', vscode.Uri.file(photo));
    assert.ok(a && b, 'describe failed');
    assert.notDeepEqual(a.tokenIds, b.tokenIds, 'the two images give different results (else re-opening proves nothing)');
    const entries = `Array.from(document.querySelectorAll('#history button.history-entry'))`;
    await waitInPanel(`${entries}.length >= 2 && ${entries}[0].textContent.includes('photo_1000x300.png')`, 'the photo result at the top of the history');
    assert.match(await panelEval<string>(`${entries}[1].getAttribute('aria-label')`), /^Re-open Describe \(caption\) result for chart_640x480\.png/);

    // Keyboard: from the newest entry, ArrowDown moves to the next one, Enter re-opens it.
    await inPanel({ op: 'press', selector: '#history button.history-entry >> nth=0', key: 'ArrowDown' });
    assert.equal(await panelEval(`${entries}.indexOf(document.activeElement)`), 1, 'ArrowDown moved to the second entry');
    await inPanel({ op: 'press', selector: '#history button.history-entry >> nth=1', key: 'Enter' });
    await waitInPanel(`document.getElementById('image').alt === 'chart_640x480.png'`, 'the chart back in the panel');
    assert.equal(await panelEval(`document.getElementById('output').textContent`), a.tokenIds.join(' '), 'the chart result is shown again');
    assert.equal(await panelEval(`document.getElementById('output').getAttribute('aria-busy')`), 'false');

    // Run now describes the re-opened image, not the photo.
    const count = await panelEval<number>(`${entries}.length`);
    await inPanel({ op: 'click', selector: '#run' });
    await waitInPanel(`${entries}.length === ${count + 1}`, 'a new history entry');
    assert.match(await panelEval<string>(`${entries}[0].textContent`), /chart_640x480\.png/);
    assert.equal(await panelEval(`document.getElementById('output').textContent`), a.tokenIds.join(' '), 'the same image and settings give the same result');
  }, 240_000);

  it('the task picker shows each checkpoint and whether it is here, and follows setting changes', async () => {
    const stateOf = (task: string) => panelEval<[string, string]>(`(() => { const o = document.querySelector('#task option[value="${task}"]'); return [o.dataset.state, o.textContent]; })()`);
    const missing = path.join(workspaceFolder().fsPath, 'no-such-model');
    const hubId = `p2s-e2e/not-downloaded-${Date.now()}`;
    await config().update('questionModelPath', missing, vscode.ConfigurationTarget.Workspace);
    await config().update('summaryModelPath', hubId, vscode.ConfigurationTarget.Workspace);
    await waitInPanel(`document.querySelector('#task option[value="summarize"]').dataset.state === 'not-downloaded'`, 'the picker to show the new settings');
    const [describeState, describeLabel] = await stateOf('describe');
    assert.equal(describeState, 'folder');
    assert.match(describeLabel, /model-a \(local folder\)/);
    assert.deepEqual(await stateOf('ask'), ['missing-folder', 'Ask a question — no-such-model (folder missing)']);
    assert.deepEqual(await stateOf('summarize'), ['not-downloaded', `Summarize screen — ${hubId} (not downloaded)`]);

    fs.mkdirSync(missing);
    for (const f of fs.readdirSync(config().get<string>('modelPath')!)) fs.copyFileSync(path.join(config().get<string>('modelPath')!, f), path.join(missing, f));
    await config().update('questionModelPath', `${missing}/`, vscode.ConfigurationTarget.Workspace);
    await waitInPanel(`document.querySelector('#task option[value="ask"]').dataset.state === 'folder'`, 'the picker to see the folder');
    assert.match((await stateOf('ask'))[1], /no-such-model \(local folder\)/);
  }, 120_000);
});

describe('pix2struct.cacheFolder', () => {
  it('a Hub id found in the configured cache shows as downloaded and runs without asking', async () => {
    // A Hugging Face cache (huggingface_hub's layout) holding the fixture model under a Hub id.
    const repoId = `p2s-e2e/cached-${Date.now()}`;
    const cache = fs.mkdtempSync(path.join(workspaceFolder().fsPath, 'hf-cache-'));
    const repo = path.join(cache, `models--${repoId.replace('/', '--')}`);
    const commit = 'c'.repeat(40);
    const snapshot = path.join(repo, 'snapshots', commit);
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'blobs'));
    fs.mkdirSync(snapshot, { recursive: true });
    fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
    const modelDir = config().get<string>('modelPath')!;
    for (const f of fs.readdirSync(modelDir)) {
      const blob = path.join(repo, 'blobs', `blob-${f}`);
      fs.copyFileSync(path.join(modelDir, f), blob);
      fs.symlinkSync(path.relative(snapshot, blob), path.join(snapshot, f));
    }
    const previous = config().inspect<string>('summaryModelPath')?.workspaceValue;
    try {
      const reference = await vscode.commands.executeCommand<{ tokenIds: number[] } | undefined>('pix2struct.describeImage', chart());
      assert.ok(reference, 'Describe with the folder model gave a result');
      await config().update('summaryModelPath', repoId, vscode.ConfigurationTarget.Workspace);
      await waitInPanel(`document.querySelector('#task option[value="summarize"]').dataset.state === 'not-downloaded'`, 'the id is not in the standard cache');
      await config().update('cacheFolder', cache, vscode.ConfigurationTarget.Workspace);
      await waitInPanel(`document.querySelector('#task option[value="summarize"]').dataset.state === 'downloaded'`, 'the picker to find it in the configured cache');
      // No download question: the cached snapshot is used as it is, and it is the same model.
      const summary = await vscode.commands.executeCommand<{ tokenIds: number[] } | undefined>('pix2struct.summarizeScreen', chart());
      assert.deepEqual(summary?.tokenIds, reference.tokenIds);
    } finally {
      await config().update('cacheFolder', undefined, vscode.ConfigurationTarget.Workspace);
      await config().update('summaryModelPath', previous, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }, 120_000);
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
