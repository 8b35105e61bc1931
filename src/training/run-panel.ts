import * as vscode from 'vscode';
import { webviewHtml } from '../webview-html';
import type { RunMonitor } from './run-monitor';
import { parseFromRunPanel, type RunPanelAction, type RunPanelMetricPoint, type ToRunPanel } from '../protocol/run-panel';
import { hostLabel } from './run-tree-model';
import { panelStatus } from './run-panel-status';

/** The excerpt of the log the panel shows; the full log is one click away (Open Log). */
const LOG_EXCERPT_CHARS = 20_000;
const FLUSH_MS = 250;

export type RunPanelActionHandler = (action: RunPanelAction, runId: string) => Promise<string | null>;


/**
 * One webview per run: live loss and metric plots, status and a log excerpt. Strict CSP with a
 * per-load nonce; messages validated both ways; every request from the webview gets one reply.
 * Metrics and log text are batched so a fast run cannot flood the webview.
 */
export class RunPanel {
  private static readonly open = new Map<string, RunPanel>();
  private ready = false;
  /** What the webview last reported showing (for tests and diagnostics). */
  private rendered: { points: number; state: string | null } | null = null;
  private pendingMetrics: RunPanelMetricPoint[] = [];
  private pendingLog = '';
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly monitor: RunMonitor,
    private readonly onAction: RunPanelActionHandler,
  ) {
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      monitor.onEvent((e) => {
        if (!this.ready) return;
        if (e.kind === 'reset') this.sendInit();
        else if (e.kind === 'status') this.post(this.statusMessage());
        else if (e.kind === 'metric') this.pendingMetrics.push(e.point), this.flushSoon();
        else if (e.kind === 'log') (this.pendingLog = (this.pendingLog + e.text).slice(-LOG_EXCERPT_CHARS)), this.flushSoon();
      }),
    );
    panel.onDidDispose(() => this.dispose());
  }

  static show(extensionUri: vscode.Uri, monitor: RunMonitor, onAction: RunPanelActionHandler): RunPanel {
    const existing = RunPanel.open.get(monitor.record.id);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel('pix2struct.runPanel', `Run: ${monitor.record.name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'training')],
    });
    const created = new RunPanel(panel, extensionUri, monitor, onAction);
    RunPanel.open.set(monitor.record.id, created);
    return created;
  }

  /** Closes the run's panel, if open (the run was removed from the list). */
  static close(runId: string): void {
    RunPanel.open.get(runId)?.panel.dispose();
  }

  /** Open panels and what each last reported showing. */
  static openIds(): { id: string; rendered: { points: number; state: string | null } | null }[] {
    return [...RunPanel.open.entries()].map(([id, p]) => ({ id, rendered: p.rendered }));
  }

  static closeAll(): void {
    for (const p of [...RunPanel.open.values()]) p.panel.dispose();
  }

  private receive(raw: unknown): void {
    const message = parseFromRunPanel(raw);
    if (!message) return;
    if (message.type === 'ready') {
      this.ready = true;
      this.sendInit();
      return;
    }
    if (message.type === 'rendered') {
      this.rendered = { points: message.points, state: message.state };
      return;
    }
    const { requestId, action } = message;
    this.onAction(action, this.monitor.record.id).then(
      (text) => this.post({ type: 'reply', requestId, ok: true, message: text }),
      (err: Error) => this.post({ type: 'reply', requestId, ok: false, error: err?.message ?? String(err) }),
    );
  }

  private sendInit(): void {
    const r = this.monitor.record;
    this.pendingMetrics = [];
    this.pendingLog = '';
    this.post({
      type: 'init',
      run: { id: r.id, name: r.name, task: r.task, host: hostLabel(r.target), createdAt: r.createdAt },
      status: panelStatus(this.monitor.status),
      connection: this.monitor.connection,
      error: this.monitor.error ?? null,
      metrics: [...this.monitor.metrics],
      log: this.monitor.logContents.slice(-LOG_EXCERPT_CHARS),
    });
  }

  private statusMessage(): ToRunPanel {
    this.flush();
    return { type: 'status', status: panelStatus(this.monitor.status), connection: this.monitor.connection, error: this.monitor.error ?? null };
  }

  private flushSoon(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingMetrics.length) this.post({ type: 'metrics', points: this.pendingMetrics.splice(0) });
    if (this.pendingLog) {
      this.post({ type: 'log', text: this.pendingLog });
      this.pendingLog = '';
    }
  }

  private post(message: ToRunPanel): void {
    void this.panel.webview.postMessage(message);
  }

  private dispose(): void {
    clearTimeout(this.flushTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    if (RunPanel.open.get(this.monitor.record.id) === this) RunPanel.open.delete(this.monitor.record.id);
  }

  private html(): string {
    // uPlot styles its canvas and legend through the CSSOM (element.style), which style-src does
    // not govern; its stylesheet loads from the extension like ours.
    return webviewHtml(this.panel.webview, {
      assets: vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'training'),
      title: 'Training run',
      rootId: 'run-app',
      styles: ['uPlot.min.css', 'run-panel.css'],
      script: 'run-panel.js',
    });
  }
}
