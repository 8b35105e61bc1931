// What the VS Code side needs from the launcher (training/launcher). The extension codes against
// this narrow port so the tree, panel and commands stay testable and the launcher's own API can
// grow without touching them; launcher-adapter.ts maps the real Launcher onto it.
import type { HostTarget, RunRecord, RunSpec, RunState, RunStatus, TailHandlers } from '../../training/launcher/types';

/** A run found in a host's runs folder (it may have been started from another machine). */
export interface RemoteRunSummary {
  record: RunRecord;
  state: RunState;
  updatedAt: string;
}

export interface SubmitProgress {
  (message: string): void;
}

export interface TrainingLauncher {
  /** Host aliases from the user's ~/.ssh/config (no wildcards). */
  listHosts(): Promise<string[]>;
  /** Creates the run on the host and starts it; resolves once it is detached and running on its own. */
  submit(spec: RunSpec, target: HostTarget, options: { signal?: AbortSignal; onProgress?: SubmitProgress }): Promise<RunRecord>;
  status(record: RunRecord, options?: { signal?: AbortSignal }): Promise<RunStatus>;
  /**
   * Streams the run's log, metrics and status from the start of its files; reconnects on its own
   * after a dropped connection. Resolves with the terminal status once everything is drained.
   */
  tail(record: RunRecord, handlers: TailHandlers, options: { signal: AbortSignal }): Promise<RunStatus>;
  cancel(record: RunRecord): Promise<RunStatus>;
  listRuns(target: HostTarget, options?: { signal?: AbortSignal }): Promise<RemoteRunSummary[]>;
  /** Copies `checkpoint` (a path relative to the run folder) into `localDir`; returns that folder. */
  fetchCheckpoint(record: RunRecord, checkpoint: string, localDir: string, options?: { signal?: AbortSignal }): Promise<string>;
  /**
   * A Cloud TPU run's phases are started one after another from this machine (then the VM is
   * deleted). After a window reload, pick that up where it stopped; no-op for other targets or
   * for a run already driven from this window.
   */
  resumeTpuWorkflow?(record: RunRecord): void;
  dispose(): Promise<void>;
}
