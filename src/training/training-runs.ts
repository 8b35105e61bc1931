import * as vscode from 'vscode';
import { isTerminal, type HostTarget, type RunRecord } from '../../training/launcher/types';
import type { TrainingLauncher } from './launcher-port';
import { RunMonitor } from './run-monitor';
import type { RunStore } from './run-store';
import { hostKey, hostLabel, type RunView } from './run-tree-model';

/**
 * Every run this window knows: the stored records, one monitor per run (created on demand) and
 * a change event the tree and panels listen to. Following live runs and discovering runs on
 * known hosts happen only in trusted workspaces.
 */
export class TrainingRuns implements vscode.Disposable {
  private readonly monitors = new Map<string, RunMonitor>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly notified = new Set<string>();
  private disposed = false;

  constructor(
    readonly store: RunStore,
    readonly launcher: TrainingLauncher,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  views(): RunView[] {
    return this.store.records().map((r) => this.monitors.get(r.id)?.view ?? { record: r, status: this.store.get(r.id)?.status, connection: 'idle' });
  }

  record(id: string): RunRecord | undefined {
    return this.store.get(id)?.record;
  }

  existingMonitor(id: string): RunMonitor | undefined {
    return this.monitors.get(id);
  }

  /** The run's monitor (created, not yet following, on first use). */
  monitor(id: string): RunMonitor | undefined {
    let m = this.monitors.get(id);
    if (m) return m;
    const stored = this.store.get(id);
    if (!stored) return undefined;
    m = new RunMonitor(stored.record, this.launcher, stored.status, this.log);
    m.onEvent((e) => {
      if (e.kind !== 'status') return;
      if (m!.status) void this.store.setStatus(id, m!.status);
      // A run that never connected (host down, auth) or whose tail gave up is worth a notification;
      // a short drop on a live run only shows in the tree and the log while it reconnects.
      if (m!.connection === 'error' || (m!.connection === 'reconnecting' && !m!.everConnected)) this.notifyLost(m!);
      else if (m!.connection === 'live') this.notified.delete(id);
      this.fireSoon();
    });
    this.monitors.set(id, m);
    return m;
  }

  /** Follows `id` unless already following; reads a finished run's files once (for plots and log). */
  follow(id: string): RunMonitor | undefined {
    const m = this.monitor(id);
    if (m && !m.isFollowing && m.connection !== 'ended') void m.follow();
    return m;
  }

  async add(record: RunRecord): Promise<RunMonitor | undefined> {
    await this.store.add(record);
    this.fireSoon();
    return this.follow(record.id);
  }

  async remove(id: string): Promise<void> {
    this.monitors.get(id)?.stop();
    this.monitors.delete(id);
    await this.store.remove(id);
    this.fireSoon();
  }

  /** Reattaches to every run not known to be finished (after activation or a granted trust). */
  followLive(): void {
    for (const r of this.store.records()) {
      const status = this.store.get(r.id)?.status;
      if (!status || !isTerminal(status.state)) {
        this.follow(r.id);
        this.launcher.resumeTpuWorkflow?.(r);
      }
    }
  }

  /** Hosts runs were started on (plus `extra`), one target per host. */
  knownHosts(extra: HostTarget[] = []): HostTarget[] {
    const byKey = new Map<string, HostTarget>();
    for (const t of [...this.store.records().map((r) => r.target), ...extra]) byKey.set(hostKey(t), t);
    return [...byKey.values()];
  }

  /**
   * Asks each known SSH host for its runs and adds those this window has not seen (started from
   * another window or machine). TPU VMs are skipped: listing one may mean starting it. Failures
   * are logged, not thrown: discovery is a courtesy.
   */
  async discover(extra: HostTarget[] = []): Promise<number> {
    let added = 0;
    await Promise.all(
      this.knownHosts(extra)
        .filter((t) => t.kind === 'ssh')
        .map(async (target) => {
          try {
            const runs = await this.launcher.listRuns(target, { signal: AbortSignal.timeout(60_000) });
            for (const run of runs) {
              if (this.disposed || this.store.has(run.record.id)) continue;
              await this.store.add(run.record, { state: run.state, updatedAt: run.updatedAt, checkpoints: [] });
              added++;
              if (!isTerminal(run.state)) this.follow(run.record.id);
            }
          } catch (err) {
            this.log.warn(`could not list runs on ${hostLabel(target)}: ${(err as Error).message}`);
          }
        }),
    );
    if (added) this.fireSoon();
    return added;
  }

  /** Stops following everything (runs go on on their hosts). */
  stopFollowing(): void {
    for (const m of this.monitors.values()) m.stop();
    this.monitors.clear();
  }

  /** One notification per run and connection loss: the tree and the log keep the details. */
  private notifyLost(m: RunMonitor): void {
    if (this.notified.has(m.record.id) || this.disposed) return;
    this.notified.add(m.record.id);
    void vscode.window
      .showErrorMessage(`Pix2Struct: cannot follow "${m.record.name}" on ${hostLabel(m.record.target)}${m.connection === 'reconnecting' ? ' (still retrying)' : ''}: ${m.error ?? 'unknown error'}`, 'Reconnect', 'Show Log')
      .then((choice) => {
        if (choice === 'Show Log') this.log.show();
        else if (choice === 'Reconnect' && vscode.workspace.isTrusted && this.monitors.get(m.record.id) === m) {
          this.notified.delete(m.record.id);
          m.stop();
          void m.follow();
        }
      });
  }

  private fireSoon(): void {
    if (this.changeTimer || this.disposed) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      this.changed.fire();
    }, 100);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.changeTimer);
    this.stopFollowing();
    this.changed.dispose();
  }
}
