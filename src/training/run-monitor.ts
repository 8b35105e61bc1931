// Follows one run through the launcher's tail: keeps its metrics, a bounded log and the latest
// status in memory and tells listeners what changed. No vscode import; never throws into its
// caller: a failed tail becomes connection 'error' with the reason.
import { isTerminal, type MetricPoint, type RunRecord, type RunStatus } from '../../training/launcher/types';
import type { TrainingLauncher } from './launcher-port';
import type { Connection, RunView } from './run-tree-model';

/** Keep this much of the log in memory: enough for the Open Log channel and the panel excerpt. */
const LOG_KEEP_CHARS = 2_000_000;
const METRICS_KEEP = 100_000;

export type MonitorEvent =
  | { kind: 'status' }
  | { kind: 'metric'; point: MetricPoint }
  | { kind: 'log'; text: string }
  /** The log was replayed from the start (a new tail); listeners showing it should reset. */
  | { kind: 'reset' };

export class RunMonitor {
  status: RunStatus | undefined;
  connection: Connection = 'idle';
  error: string | undefined;
  /** Whether any data arrived since follow() began: a first failure means the host is unreachable. */
  everConnected = false;
  readonly metrics: MetricPoint[] = [];
  private logText = '';
  private abort: AbortController | undefined;
  private readonly listeners = new Set<(e: MonitorEvent) => void>();

  constructor(
    readonly record: RunRecord,
    private readonly launcher: TrainingLauncher,
    initialStatus: RunStatus | undefined,
    private readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void },
  ) {
    this.status = initialStatus;
  }

  get view(): RunView {
    return { record: this.record, status: this.status, connection: this.connection, error: this.error };
  }

  get logContents(): string {
    return this.logText;
  }

  get isFollowing(): boolean {
    return this.abort !== undefined;
  }

  onEvent(listener: (e: MonitorEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(e: MonitorEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log.error(`run ${this.record.id}: listener failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Starts following the run (no-op while already following). The tail replays the run's files
   * from the start, so what was in memory is replaced. Resolves when the tail ends, never rejects.
   */
  follow(): Promise<void> {
    if (this.abort) return Promise.resolve();
    const abort = new AbortController();
    this.abort = abort;
    this.metrics.length = 0;
    this.logText = '';
    this.connection = 'connecting';
    this.everConnected = false;
    this.error = undefined;
    this.emit({ kind: 'reset' });
    this.emit({ kind: 'status' });
    this.log.info(`run ${this.record.id}: following on ${describeTarget(this.record)}`);
    return this.launcher
      .tail(
        this.record,
        {
          onLog: (text) => {
            if (abort.signal.aborted) return;
            this.markLive();
            this.logText = (this.logText + text).slice(-LOG_KEEP_CHARS);
            this.emit({ kind: 'log', text });
          },
          onMetric: (point) => {
            if (abort.signal.aborted) return;
            this.markLive();
            if (this.metrics.length >= METRICS_KEEP) this.metrics.shift();
            this.metrics.push(point);
            this.emit({ kind: 'metric', point });
          },
          onStatus: (status) => {
            if (abort.signal.aborted) return;
            this.status = status;
            this.markLive(true);
          },
          onReconnect: (attempt, reason) => {
            if (abort.signal.aborted) return;
            this.connection = 'reconnecting';
            this.error = reason;
            this.log.warn(`run ${this.record.id}: connection dropped (${reason}); reconnecting, attempt ${attempt}`);
            this.emit({ kind: 'status' });
          },
        },
        { signal: abort.signal },
      )
      .then(
        (final) => {
          if (abort.signal.aborted) return;
          this.status = final;
          this.connection = 'ended';
          this.error = undefined;
          this.log.info(`run ${this.record.id}: ${final.state}${final.message ? ` (${final.message})` : ''}`);
        },
        (err: Error) => {
          if (abort.signal.aborted) return;
          this.connection = 'error';
          this.error = err.message;
          this.log.error(`run ${this.record.id}: lost the run on ${describeTarget(this.record)}: ${err.message}`);
        },
      )
      .finally(() => {
        if (this.abort === abort) this.abort = undefined;
        if (!abort.signal.aborted) this.emit({ kind: 'status' });
      });
  }

  private markLive(statusChanged = false): void {
    const wasLive = this.connection === 'live';
    this.everConnected = true;
    if (this.connection !== 'ended') this.connection = this.status && isTerminal(this.status.state) ? 'ended' : 'live';
    if (this.connection === 'live') this.error = undefined;
    if (statusChanged || !wasLive) this.emit({ kind: 'status' });
  }

  /** Stops following (the run itself goes on on its host). */
  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
    if (this.connection !== 'ended') this.connection = 'idle';
  }

  /** Applies a status read outside the tail (status or cancel calls). */
  setStatus(status: RunStatus): void {
    this.status = status;
    this.emit({ kind: 'status' });
  }
}

export function describeTarget(record: RunRecord): string {
  return record.target.kind === 'ssh' ? `ssh ${record.target.host}` : `TPU VM ${record.target.name} (${record.target.zone})`;
}
