/**
 * The Pix2Struct panel. It only talks to the extension through the typed protocol; the
 * extension validates everything it receives.
 */
import type { DescribeResult, FromWebview, TaskId, ToWebview } from '../src/protocol';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };
const vscode = acquireVsCodeApi();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const image = el('img', { id: 'image', alt: 'No image yet' });
const task = el('select', { id: 'task', title: 'Task' });
task.append(el('option', { value: 'describe', textContent: 'Describe' }), el('option', { value: 'ask', textContent: 'Ask a question' }));
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
  el('section', { className: 'image' }, image),
  el('section', { className: 'controls' }, task, question, runButton, stopButton),
  el('section', { className: 'result' }, output, meta, el('div', { className: 'actions' }, copyButton, insertButton)),
  el('details', {}, el('summary', { textContent: 'History' }), history),
);

task.addEventListener('change', () => {
  question.hidden = task.value !== 'ask';
  if (!question.hidden) question.focus();
});
runButton.addEventListener('click', () => {
  const t = task.value as TaskId;
  if (t === 'ask' && question.value.trim() === '') {
    question.focus();
    return;
  }
  vscode.postMessage(t === 'ask' ? { type: 'run', task: 'ask', question: question.value } : { type: 'run', task: 'describe' });
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
      break;
    case 'runStarted':
      runId = m.runId;
      output.textContent = '';
      output.dataset.state = 'running';
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
      output.dataset.state = m.ok ? 'done' : 'error';
      if (m.ok) {
        lastText = m.result.text ?? m.result.tokenIds.join(' ');
        output.textContent = lastText;
        meta.textContent = describeResult(m.result);
        history.prepend(el('li', { textContent: lastText }));
      } else {
        meta.textContent = m.error.code === 'ABORTED' ? 'Stopped.' : `Error: ${m.error.message}`;
      }
      copyButton.disabled = insertButton.disabled = !m.ok;
      break;
    }
  }
});

vscode.postMessage({ type: 'ready' });
