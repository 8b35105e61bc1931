/**
 * The Pix2Struct panel. It only talks to the extension through the typed protocol; the
 * extension validates everything it receives.
 */
import type { Box, DescribeResult, FromWebview, TaskId, ToWebview } from '../src/protocol';
import { enableBoxDrawing } from './box-drawing';
import { initFindElement } from './find-element';
import { renderTable, renderTree } from './render';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };
const vscode = acquireVsCodeApi();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const image = el('img', { id: 'image', alt: 'No image yet' });
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
const history = el('ol', { id: 'history' });
let runId: number | undefined;
let lastText = '';

document.getElementById('app')!.append(
  el('section', { className: 'image' }, el('div', { className: 'stage' }, image, overlay)),
  el('section', { className: 'controls' }, task, question, runButton, stopButton),
  el('section', { className: 'result' }, output, structured, meta, el('div', { className: 'actions' }, copyButton, insertButton, exportCsv, exportMarkdown)),
  el('details', {}, el('summary', { textContent: 'History' }), history),
);
const find = initFindElement({ image, stage: image.parentElement!, task, runButton, stopButton, meta, results: structured.parentElement! }, (m) => vscode.postMessage(m));

function setTask(value: TaskId): void {
  task.value = value;
  question.hidden = value !== 'ask';
  if (!question.hidden) question.focus();
  stopDrawing?.();
  stopDrawing = undefined;
  if (value === 'widget') {
    meta.textContent = 'Drag a box around the widget, then Run.';
    stopDrawing = enableBoxDrawing(image, overlay, (b) => {
      box = b;
      meta.textContent = `Box ${b.x0},${b.y0} – ${b.x1},${b.y1}`;
    });
  } else {
    overlay.style.display = 'none';
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

function describeResult(r: DescribeResult): string {
  const t = r.timingsMs;
  return `${r.tokenIds.length - 1} tokens · preprocess ${t.preprocess.toFixed(0)} ms · encoder ${t.encoder.toFixed(0)} ms · decoder ${t.decoder.toFixed(0)} ms${t.load > 0 ? ` · model load ${t.load.toFixed(0)} ms` : ''} · ${r.provider}`;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'image':
      image.src = m.image.src;
      image.alt = m.image.name;
      box = undefined;
      overlay.style.display = 'none';
      break;
    case 'drawBox':
      setTask(m.task);
      break;
    case 'runStarted':
      runId = m.runId;
      output.textContent = '';
      output.dataset.state = 'running';
      structured.replaceChildren();
      exportCsv.hidden = exportMarkdown.hidden = true;
      meta.textContent = `${m.task === 'ask' ? `Q: ${m.question} · ` : ''}${m.model}`;
      stopButton.disabled = false;
      runButton.disabled = true;
      break;
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
      if (m.ok) {
        lastText = m.result.text ?? m.result.tokenIds.join(' ');
        output.textContent = lastText;
        meta.textContent = describeResult(m.result);
        history.prepend(el('li', { textContent: lastText }));
        if (m.result.table) {
          structured.replaceChildren(renderTable(m.result.table));
          tableExports = { csv: m.result.table.csv, markdown: m.result.table.markdown };
          exportCsv.hidden = exportMarkdown.hidden = false;
        } else if (m.result.tree) {
          structured.replaceChildren(renderTree(m.result.tree, find.onTreeHover));
        }
      } else {
        meta.textContent = m.error.code === 'ABORTED' ? 'Stopped.' : `Error: ${m.error.message}`;
      }
      copyButton.disabled = insertButton.disabled = !m.ok;
      break;
    }
  }
});

vscode.postMessage({ type: 'ready' });
