/**
 * A training run's panel: status, live loss and evaluation plots (uPlot), and the end of the
 * log. It talks to the extension only through src/protocol/run-panel, validating what arrives.
 */
import uPlot from 'uplot';
import {
  parseToRunPanel,
  type FromRunPanel,
  type RunPanelAction,
  type RunPanelConnection as Connection,
  type RunPanelInfo,
  type RunPanelMetricPoint as MetricPoint,
  type RunPanelStatus as RunStatus,
} from '../../src/protocol/run-panel';
import { alignMetrics, isEvalMetric, isLoss, type AlignedSeries } from './plot-data';

declare function acquireVsCodeApi(): { postMessage(message: FromRunPanel): void };
const vscode = acquireVsCodeApi();

const LOG_LINES = 300;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const title = el('h1', { id: 'run-name', textContent: 'Training run' });
const meta = el('p', { className: 'meta', id: 'run-meta' });
const stateBadge = el('span', { className: 'badge', id: 'run-state', textContent: '…' });
const phase = el('span', { className: 'phase', id: 'run-phase' });
const progress = el('progress', { id: 'run-progress', max: 1, value: 0 });
const stepText = el('span', { className: 'meta', id: 'run-step' });
const connectionNote = el('p', { className: 'connection', id: 'run-connection', hidden: true });
const notice = el('p', { className: 'notice', id: 'run-notice', hidden: true });
notice.setAttribute('role', 'status');
const stopButton = el('button', { id: 'stop', textContent: 'Stop' });
const logButton = el('button', { id: 'open-log', textContent: 'Open Log', className: 'secondary' });
const useButton = el('button', { id: 'use-checkpoint', textContent: 'Use This Checkpoint', className: 'secondary' });
const reconnectButton = el('button', { id: 'reconnect', textContent: 'Reconnect', className: 'secondary', hidden: true });
const lossBox = el('div', { className: 'plot', id: 'loss-plot' });
const evalBox = el('div', { className: 'plot', id: 'eval-plot' });
const evalEmpty = el('p', { className: 'meta', textContent: 'No evaluation yet.' });
const logView = el('pre', { id: 'log' });

document.getElementById('run-app')!.append(
  el('header', {}, title, meta, el('div', { className: 'state-line' }, stateBadge, phase), el('div', { className: 'progress-line' }, progress, stepText), connectionNote),
  el('div', { className: 'actions' }, stopButton, logButton, useButton, reconnectButton),
  notice,
  el('section', {}, el('h2', { textContent: 'Loss' }), lossBox),
  el('section', {}, el('h2', { textContent: 'Evaluation' }), evalBox, evalEmpty),
  el('section', {}, el('h2', { textContent: 'Log (end)' }), logView),
);

let metrics: MetricPoint[] = [];
let status: RunStatus | null = null;
let logText = '';
let connection: Connection = 'idle';
let connectionError: string | null = null;
let nextRequest = 1;
const pending = new Map<number, HTMLButtonElement>();

function request(action: RunPanelAction, button: HTMLButtonElement): void {
  const requestId = nextRequest++;
  pending.set(requestId, button);
  button.disabled = true;
  vscode.postMessage({ type: 'request', requestId, action });
}
stopButton.addEventListener('click', () => request('stop', stopButton));
logButton.addEventListener('click', () => request('openLog', logButton));
useButton.addEventListener('click', () => request('useCheckpoint', useButton));
reconnectButton.addEventListener('click', () => request('reconnect', reconnectButton));

function showNotice(text: string, isError: boolean): void {
  notice.textContent = text;
  notice.hidden = false;
  notice.dataset.kind = isError ? 'error' : 'info';
}

// ---- plots ---------------------------------------------------------------------------

const css = getComputedStyle(document.documentElement);
const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'].map(
  (v, i) => css.getPropertyValue(v).trim() || ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]!,
);
const FOREGROUND = css.getPropertyValue('--vscode-foreground').trim() || '#cccccc';
const GRID = css.getPropertyValue('--vscode-editorWidget-border').trim() || 'rgba(128,128,128,0.25)';

class Plot {
  private plot: uPlot | undefined;
  private signature = '';

  constructor(private readonly box: HTMLElement, private readonly yLabel: string) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(box);
  }

  private size() {
    return { width: Math.max(200, this.box.clientWidth), height: 220 };
  }

  update(aligned: AlignedSeries): void {
    const signature = aligned.series.map((s) => `${s.split}/${s.name}`).join(',');
    if (aligned.series.length === 0) {
      this.plot?.destroy();
      this.plot = undefined;
      this.signature = '';
      return;
    }
    const data = aligned.columns as uPlot.AlignedData;
    if (this.plot && signature === this.signature) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.signature = signature;
    const axis = { stroke: FOREGROUND, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } };
    this.plot = new uPlot(
      {
        ...this.size(),
        scales: { x: { time: false } },
        axes: [{ ...axis, label: 'step' }, { ...axis, label: this.yLabel }],
        series: [
          { label: 'step' },
          ...aligned.series.map((s, i) => ({
            label: `${s.split} ${s.name}`,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            spanGaps: true,
            points: { show: s.split === 'eval' },
          })),
        ],
      },
      data,
      this.box,
    );
  }
}

const lossPlot = new Plot(lossBox, 'loss');
const evalPlot = new Plot(evalBox, 'score');

// ---- rendering -----------------------------------------------------------------------

function renderPlots(): void {
  lossPlot.update(alignMetrics(metrics, isLoss));
  const evalSeries = alignMetrics(metrics, isEvalMetric);
  evalPlot.update(evalSeries);
  evalEmpty.hidden = evalSeries.series.length > 0;
}

function renderStatus(): void {
  const error = connectionError;
  const state = status?.state ?? 'unknown';
  stateBadge.textContent = state;
  stateBadge.dataset.state = state;
  phase.textContent = [status?.phase, status?.message].filter(Boolean).join(' — ');
  const total = status?.totalSteps ?? 0;
  progress.max = total > 0 ? total : 1;
  progress.value = Math.min(status?.step ?? 0, progress.max);
  stepText.textContent = status?.step !== undefined ? (total ? `step ${status.step} / ${total}` : `step ${status.step}`) : '';
  const terminal = status?.terminal ?? false;
  stopButton.disabled = terminal || pendingFor(stopButton);
  useButton.disabled = !(status?.finalCheckpoint || (status?.checkpoints.length ?? 0) > 0) || pendingFor(useButton);
  const notes: Record<Connection, string> = {
    idle: 'Not following this run.',
    connecting: 'Connecting…',
    live: '',
    reconnecting: `Connection dropped; reconnecting… ${error ?? ''}`,
    ended: '',
    error: `Lost the connection: ${error ?? 'unknown error'}`,
  };
  connectionNote.textContent = notes[connection];
  connectionNote.hidden = notes[connection] === '';
  connectionNote.dataset.kind = connection;
  reconnectButton.hidden = !(connection === 'error' || connection === 'idle');
}

const pendingFor = (button: HTMLButtonElement) => [...pending.values()].includes(button);

function renderLog(): void {
  const lines = logText.split('\n');
  logView.textContent = lines.slice(-LOG_LINES).join('\n');
  logView.scrollTop = logView.scrollHeight;
}

function renderInfo(run: RunPanelInfo): void {
  title.textContent = run.name;
  document.title = run.name;
  meta.textContent = `${run.task} on ${run.host} · started ${new Date(run.createdAt).toLocaleString()} · ${run.id}`;
}

let ackTimer: number | undefined;
function acknowledge(): void {
  clearTimeout(ackTimer);
  ackTimer = window.setTimeout(() => vscode.postMessage({ type: 'rendered', points: metrics.length, state: status?.state ?? null }), 100);
}

window.addEventListener('message', (event: MessageEvent) => {
  const m = parseToRunPanel(event.data);
  if (!m) return;
  switch (m.type) {
    case 'init':
      renderInfo(m.run);
      metrics = m.metrics;
      status = m.status;
      logText = m.log;
      connection = m.connection;
      connectionError = m.error;
      renderStatus();
      renderPlots();
      renderLog();
      break;
    case 'status':
      status = m.status;
      connection = m.connection;
      connectionError = m.error;
      renderStatus();
      break;
    case 'metrics':
      metrics = metrics.concat(m.points);
      renderPlots();
      break;
    case 'log':
      logText = (logText + m.text).slice(-200_000);
      renderLog();
      break;
    case 'reply': {
      const button = pending.get(m.requestId);
      pending.delete(m.requestId);
      if (button) button.disabled = false;
      if (m.ok && m.message) showNotice(m.message, false);
      else if (!m.ok) showNotice(m.error, true);
      renderStatus();
      break;
    }
  }
  acknowledge();
});

vscode.postMessage({ type: 'ready' });
