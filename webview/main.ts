/**
 * The Pix2Struct panel. It only talks to the extension through the typed protocol; the
 * extension validates everything it receives.
 */
import type { Box } from '../src/protocol/common';
import type { DescribeResult, TaskId } from '../src/protocol/describe-result';
import type { FromWebview, TaskModelInfo, ToWebview } from '../src/protocol/panel';
import { enableBoxDrawing } from './box-drawing';
import { createContinueBar } from './continue-bar';
import { createCropMode } from './crop-mode';
import { initFindElement } from './find-element';
import { createHistory, type HistoryEntry } from './history';
import { hideOverlay } from './overlay';
import { renderTable, renderTree } from './render';
import { enableTreeKeys } from './tree-keys';
import { createZoom } from './zoom';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };
const vscode = acquireVsCodeApi();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const image = el('img', { id: 'image', alt: 'No image yet', tabIndex: -1 });
const task = el('select', { id: 'task', title: 'Task' });
const TASKS: [TaskId, string][] = [
  ['describe', 'Describe (caption)'],
  ['ask', 'Ask a question'],
  ['summarize', 'Summarize screen'],
  ['ui', 'Parse UI structure'],
  ['table', 'Chart to data table'],
  ['widget', 'Caption widget (draw a box)'],
];
for (const [value, label] of TASKS) task.append(el('option', { value, textContent: label }));
const overlay = el('div', { className: 'box-overlay' });
const cropOverlay = el('div', { className: 'box-overlay crop-overlay' });
const taskModel = el('p', { id: 'task-model', className: 'meta' });
taskModel.setAttribute('role', 'status');
let models: TaskModelInfo[] = [];
const structured = el('div', { id: 'structured' });
const exportCsv = el('button', { textContent: 'Copy CSV', hidden: true });
const exportMarkdown = el('button', { textContent: 'Copy Markdown', hidden: true });
let box: Box | undefined;
let stopDrawing: (() => void) | undefined;
let tableExports: { csv: string; markdown: string } | undefined;
const question = el('input', { id: 'question', type: 'text', placeholder: 'Question about the image', hidden: true });
question.setAttribute('aria-label', 'Question');
const runButton = el('button', { id: 'run', textContent: 'Run' });
const stopButton = el('button', { id: 'stop', textContent: 'Stop', disabled: true });
const output = el('pre', { id: 'output' });
output.setAttribute('aria-live', 'polite');
const meta = el('p', { id: 'meta', className: 'meta' });
const copyButton = el('button', { id: 'copy', textContent: 'Copy', disabled: true });
const insertButton = el('button', { id: 'insert', textContent: 'Insert at Cursor', disabled: true });
const altTextButton = el('button', { id: 'alt-text', textContent: 'Insert as Alt Text', disabled: true, title: 'Set this result as the alt text of the image reference at the cursor in the last active editor (or insert a new reference)' });
const historyList = el('ol', { id: 'history' });
/** Short messages for screen readers that the visible text does not already announce. */
const announce = el('div', { id: 'announce', className: 'sr-only' });
announce.setAttribute('role', 'status');
let runId: number | undefined;
let lastText = '';
/** The image shown now, and the one the shown result belongs to. */
let shown: { src: string; name: string; key: string | undefined } | undefined;
let resultImage: typeof shown;
let running: { task: TaskId; question?: string; image: typeof shown } | undefined;

// Zoom toolbar and the scrollable viewport around the image.
const zoomLabel = el('span', { id: 'zoom-level', className: 'zoom-level' });
zoomLabel.setAttribute('aria-live', 'polite');
const fitButton = el('button', { id: 'zoom-fit', textContent: 'Fit', title: 'Fit the image in the panel (0)' });
const actualButton = el('button', { id: 'zoom-100', textContent: '100%', title: 'Actual size (1)' });
const zoomOutButton = el('button', { id: 'zoom-out', textContent: '−', title: 'Zoom out (-, Ctrl+wheel)' });
zoomOutButton.setAttribute('aria-label', 'Zoom out');
const zoomInButton = el('button', { id: 'zoom-in', textContent: '+', title: 'Zoom in (+, Ctrl+wheel)' });
zoomInButton.setAttribute('aria-label', 'Zoom in');
const cropButton = el('button', { id: 'crop', textContent: 'Crop', title: 'Crop the image to a rectangle you draw' });
const zoomBar = el('div', { className: 'zoom-bar' }, fitButton, actualButton, zoomOutButton, zoomLabel, zoomInButton, cropButton);
zoomBar.setAttribute('role', 'toolbar');
zoomBar.setAttribute('aria-label', 'Image');
const viewport = el('div', { id: 'viewport', className: 'viewport', tabIndex: 0 }, el('div', { className: 'stage' }, image, overlay, cropOverlay));
viewport.setAttribute('role', 'group');
viewport.setAttribute('aria-label', 'Image view: + and - zoom, 0 fits, 1 shows actual size, Ctrl+wheel zooms at the pointer');
const cropHint = el('span', { id: 'crop-hint' });
cropHint.setAttribute('aria-live', 'polite');
const cropApply = el('button', { id: 'crop-apply', textContent: 'Apply Crop' });
const cropCancel = el('button', { id: 'crop-cancel', textContent: 'Cancel' });
const cropBar = el('div', { className: 'crop-bar', hidden: true }, cropHint, cropApply, cropCancel);
const zoom = createZoom(viewport, image, zoomLabel);
fitButton.addEventListener('click', () => zoom.fit());
actualButton.addEventListener('click', () => zoom.set(1));
zoomInButton.addEventListener('click', () => zoom.zoomIn());
zoomOutButton.addEventListener('click', () => zoom.zoomOut());

// Requests that get exactly one reply from the extension.
let nextRequestId = 1;
const pending = new Map<number, (error: string | null, message?: string) => void>();
function request(make: (requestId: number) => FromWebview): Promise<{ error: string | null; message?: string }> {
  const requestId = nextRequestId++;
  return new Promise((resolve) => {
    pending.set(requestId, (error, message) => resolve({ error, message }));
    vscode.postMessage(make(requestId));
  });
}

const crop = createCropMode({
  image,
  overlay: cropOverlay,
  bar: cropBar,
  hint: cropHint,
  apply: cropApply,
  cancel: cropCancel,
  send: async (b) => {
    const key = shown?.key;
    if (!key) return 'this image cannot be cropped (open it again)';
    const r = await request((requestId) => ({ type: 'crop', requestId, imageKey: key, box: b }));
    if (!r.error) announce.textContent = r.message ?? 'Cropped.';
    return r.error;
  },
  onActive: (active) => {
    cropButton.disabled = active;
    if (active) {
      stopDrawing?.();
      stopDrawing = undefined;
      hideOverlay(overlay);
    } else {
      setTask(task.value as TaskId, false);
    }
  },
});
cropButton.addEventListener('click', () => crop.start());

const TASK_LABELS = new Map(TASKS);
const history = createHistory(historyList, reopen);

document.getElementById('app')!.append(
  el('section', { className: 'image' }, zoomBar, cropBar, viewport),
  el('section', { className: 'controls' }, task, question, runButton, stopButton),
  taskModel,
  el('section', { className: 'result' }, output, structured, meta, el('div', { className: 'actions' }, copyButton, insertButton, altTextButton, exportCsv, exportMarkdown)),
  el('details', { open: true }, el('summary', { textContent: 'History' }), historyList),
  announce,
);
// Under the timing line: "Stopped at N tokens (the budget) — Continue" when the budget cut a result short.
const continueBar = createContinueBar((stoppedRun) => request((requestId) => ({ type: 'continue', requestId, runId: stoppedRun })).then((r) => r.error));
meta.after(continueBar.element);
const find = initFindElement({ image, stage: image.parentElement!, task, runButton, stopButton, meta, results: structured.parentElement! }, (m) => vscode.postMessage(m));

const STATE_WORDS: Record<TaskModelInfo['state'], string> = {
  folder: 'local folder',
  'missing-folder': 'folder missing',
  downloaded: 'downloaded',
  'not-downloaded': 'not downloaded',
};

/** The picker's options name each task's checkpoint and whether it is on this machine. */
function showTaskModels(): void {
  for (const option of Array.from(task.options)) {
    const info = models.find((m) => m.task === option.value);
    const label = TASK_LABELS.get(option.value as TaskId) ?? option.dataset.label ?? option.value;
    option.textContent = info ? `${label} — ${info.name} (${STATE_WORDS[info.state]})` : label;
    option.title = info ? info.model : '';
    if (info) option.dataset.state = info.state;
  }
  const info = models.find((m) => m.task === task.value);
  if (!info) {
    taskModel.textContent = '';
    return;
  }
  const advice =
    info.state === 'not-downloaded' ? ' — downloads on the first run (Pix2Struct: Manage Models to choose another)' : info.state === 'missing-folder' ? ' — fix the setting or run Pix2Struct: Manage Models' : '';
  taskModel.textContent = `Model: ${info.model} (${STATE_WORDS[info.state]})${advice}`;
  taskModel.dataset.state = info.state;
}

function setTask(value: TaskId, focusQuestion = true): void {
  task.value = value;
  find.taskChanged();
  question.hidden = value !== 'ask';
  if (!question.hidden && focusQuestion) question.focus();
  stopDrawing?.();
  stopDrawing = undefined;
  crop.end();
  showTaskModels();
  if (value === 'widget') {
    meta.textContent = 'Drag a box around the widget, then Run.';
    stopDrawing = enableBoxDrawing(image, overlay, (b) => {
      box = b;
      meta.textContent = `Box ${b.x0},${b.y0} – ${b.x1},${b.y1}`;
    });
  } else {
    hideOverlay(overlay);
  }
}
task.addEventListener('change', () => setTask(task.value as TaskId));
exportCsv.addEventListener('click', () => tableExports && vscode.postMessage({ type: 'copy', text: tableExports.csv }));
exportMarkdown.addEventListener('click', () => tableExports && vscode.postMessage({ type: 'copy', text: tableExports.markdown }));
runButton.addEventListener('click', () => {
  const t = task.value as TaskId;
  if (t === 'ask' && question.value.trim() === '') {
    question.focus();
    return;
  }
  if (t === 'widget' && !box) {
    meta.textContent = 'Draw a box around the widget first.';
    return;
  }
  vscode.postMessage(t === 'ask' ? { type: 'run', task: 'ask', question: question.value } : t === 'widget' ? { type: 'run', task: 'widget', box } : { type: 'run', task: t });
});
question.addEventListener('keydown', (e) => e.key === 'Enter' && runButton.click());
stopButton.addEventListener('click', () => runId !== undefined && vscode.postMessage({ type: 'stop', runId }));
copyButton.addEventListener('click', () => vscode.postMessage({ type: 'copy', text: lastText }));
insertButton.addEventListener('click', () => vscode.postMessage({ type: 'insert', text: lastText }));
altTextButton.addEventListener('click', async () => {
  const key = resultImage?.key;
  if (!key || !lastText.trim()) return;
  altTextButton.disabled = true;
  const r = await request((requestId) => ({ type: 'insertAltText', requestId, imageKey: key, text: lastText }));
  altTextButton.disabled = false;
  announce.textContent = r.error ? `Alt text not inserted: ${r.error}` : (r.message ?? 'Alt text inserted');
  if (r.error) meta.textContent = `Alt text not inserted: ${r.error}`;
});

function showImage(next: NonNullable<typeof shown>): void {
  crop.end();
  const same = shown?.src === next.src;
  shown = next;
  image.alt = next.name;
  // Every run re-sends its image: a drawn widget box stays until the picture itself changes.
  if (same) return;
  image.src = next.src;
  box = undefined;
  hideOverlay(overlay);
}

function showStructured(result: DescribeResult): void {
  if (result.table) {
    structured.replaceChildren(renderTable(result.table));
    tableExports = { csv: result.table.csv, markdown: result.table.markdown };
    exportCsv.hidden = exportMarkdown.hidden = false;
  } else if (result.tree) {
    const tree = renderTree(result.tree, find.onTreeHover);
    structured.replaceChildren(tree);
    enableTreeKeys(tree);
  }
}

/** Shows a history entry again: its image becomes current and its result is the one the buttons use. */
function reopen(entry: HistoryEntry): void {
  if (runId !== undefined && !stopButton.disabled) {
    announce.textContent = meta.textContent = 'A run is in progress: stop it or wait before re-opening a result.';
    return;
  }
  const img = { src: entry.imageSrc, name: entry.imageName, key: entry.imageKey };
  showImage(img);
  resultImage = img;
  if (entry.imageKey) vscode.postMessage({ type: 'selectImage', imageKey: entry.imageKey });
  setTask(entry.task, false);
  continueBar.hide(); // only the latest result can be continued
  if (entry.question) question.value = entry.question;
  lastText = entry.text;
  output.textContent = entry.text;
  output.dataset.state = 'done';
  structured.replaceChildren();
  exportCsv.hidden = exportMarkdown.hidden = true;
  showStructured(entry.result);
  meta.textContent = `${entry.taskLabel} · ${entry.imageName} · ${entry.time.toLocaleTimeString()} · ${describeResult(entry.result)}`;
  copyButton.disabled = insertButton.disabled = altTextButton.disabled = false;
  announce.textContent = `Re-opened ${entry.taskLabel} result for ${entry.imageName}`;
}

function describeResult(r: DescribeResult): string {
  const t = r.timingsMs;
  return `${r.tokenIds.length - 1} tokens · preprocess ${t.preprocess.toFixed(0)} ms · encoder ${t.encoder.toFixed(0)} ms · decoder ${t.decoder.toFixed(0)} ms${t.load > 0 ? ` · model load ${t.load.toFixed(0)} ms` : ''} · ${r.provider} · ${r.precision.used}`;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'image':
      showImage({ src: m.image.src, name: m.image.name, key: m.image.key });
      break;
    case 'startCrop':
      if (image.complete && image.naturalWidth) crop.start();
      else image.addEventListener('load', () => crop.start(), { once: true });
      break;
    case 'taskModels':
      models = m.models;
      showTaskModels();
      break;
    case 'reply': {
      const resolve = pending.get(m.requestId);
      pending.delete(m.requestId);
      resolve?.(m.ok ? null : m.error.message, m.ok ? m.message : undefined);
      break;
    }
    case 'drawBox':
      setTask(m.task);
      break;
    case 'runStarted': {
      // A continuation of the result on screen extends its text in place.
      const continuing = m.continues !== undefined && m.continues === runId;
      runId = m.runId;
      continueBar.hide();
      // A run started by a command shows its task in the picker, so Run repeats what is on screen.
      if (task.value !== m.task) setTask(m.task, false);
      if (m.task === 'ask' && m.question !== undefined) question.value = m.question;
      running = { task: m.task, question: m.question, image: shown };
      if (!continuing) output.textContent = '';
      output.dataset.state = 'running';
      // Streamed tokens rewrite the output many times a second: announce the result once, at the end.
      output.setAttribute('aria-busy', 'true');
      announce.textContent = `Running ${TASK_LABELS.get(m.task) ?? m.task}…`;
      copyButton.disabled = insertButton.disabled = altTextButton.disabled = true;
      structured.replaceChildren();
      exportCsv.hidden = exportMarkdown.hidden = true;
      meta.textContent = `${m.task === 'ask' ? `Q: ${m.question} · ` : ''}${m.model}`;
      stopButton.disabled = false;
      runButton.disabled = true;
      break;
    }
    case 'token':
      if (m.runId !== runId) break;
      // Without a tokenizer the ids are all there is to show.
      output.textContent = m.text ?? `${output.textContent ?? ''}${output.textContent ? ' ' : ''}${m.tokenId}`;
      break;
    case 'runFinished': {
      if (m.runId !== runId) break;
      stopButton.disabled = true;
      runButton.disabled = false;
      output.dataset.state = m.ok ? 'done' : m.error.code === 'ABORTED' ? 'stopped' : 'error';
      output.setAttribute('aria-busy', 'false');
      if (m.ok) {
        lastText = m.result.text ?? m.result.tokenIds.join(' ');
        output.textContent = lastText;
        meta.textContent = describeResult(m.result);
        resultImage = running?.image ?? shown;
        if (running && resultImage) {
          const taskLabel = TASK_LABELS.get(running.task) ?? running.task;
          history.add({ task: running.task, taskLabel, imageSrc: resultImage.src, imageName: resultImage.name, imageKey: resultImage.key, question: running.question, time: new Date(), text: lastText, result: m.result });
        }
        showStructured(m.result);
        announce.textContent = `Result: ${lastText}`;
        if (m.result.stoppedBy === 'budget') continueBar.show(m.runId, m.result.tokenIds.length - 1);
      } else {
        meta.textContent = m.error.code === 'ABORTED' ? 'Stopped.' : `Error: ${m.error.message}`;
        announce.textContent = meta.textContent;
      }
      running = undefined;
      copyButton.disabled = insertButton.disabled = altTextButton.disabled = !m.ok;
      break;
    }
  }
});

vscode.postMessage({ type: 'ready' });
