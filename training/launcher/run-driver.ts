// What a backend implements to run fine-tuning on its kind of host. runLifecycle (run-lifecycle.ts)
// calls these in order and owns everything between them: polling, backoff, abort, and what a
// failure leaves on the host. A new backend is a new RunDriver, not another state machine.
import type { RunState } from './run-states';
import type { Attempt } from './backoff';

/** A launcher-side state the driver has written to the host (control.py init / set-state). */
export type LauncherSideState = Extract<RunState, 'preparing' | 'uploading'>;

/** Where a step stands on the host, asked when a run is resumed. */
export type StepState = 'not-started' | 'running' | 'ok' | 'failed';

export interface RunStep {
  /** For errors and logs, e.g. "control.py start" or "TPU train". */
  readonly label: string;
  /** Absent: the step cannot be resumed, so a resumed run starts it again. */
  state?(signal?: AbortSignal): Promise<StepState>;
  /** Starts the step detached on the host, so a dropped connection or a closed window does not end it. */
  start(signal?: AbortSignal): Promise<void>;
  /**
   * Asks the host once whether the step has ended (it may long-poll). Throws when the host says it
   * failed. Absent: the step goes on by itself after start (the run is followed with Launcher.tail).
   */
  poll?(signal?: AbortSignal): Promise<Attempt<void>>;
  /** The error for a host that has not answered `poll` for `downMs`: the step may still be running there. */
  lostContactError?(downMs: number, lastReason: string): Error;
  /** Stops the step wherever it runs, after it failed or was aborted. Never given the aborted signal. */
  stop(reason: string): Promise<void>;
}

export interface RunDriver<S extends RunStep = RunStep> {
  /** The host in messages, e.g. "ssh gpu-box" or "TPU VM my-tpu (europe-west4-a)". */
  readonly label: string;
  /** Makes the host exist and ready (a TPU VM: create it, wait for READY). A failure here leaves nothing to release. */
  provision?(signal?: AbortSignal): Promise<void>;
  /** Makes the launcher's code (training/remote) available on the host. */
  deployCode(signal?: AbortSignal): Promise<void>;
  /**
   * Creates the run folder with its spec and uploads the inputs, calling `onState` as each
   * launcher-side state reaches the host ('preparing' once the folder exists). Not called on resume.
   */
  createRun(onState: (state: LauncherSideState) => void, signal?: AbortSignal): Promise<void>;
  /** The steps the host runs, in order; asked after deployCode. */
  steps(): readonly S[];
  /** Leaves a run whose folder exists, but whose first step never started, failed with the reason. */
  markFailed(reason: string): Promise<void>;
  /** Last, whatever happened once the host was provisioned (a TPU VM: fetch the results, delete it). */
  release?(failure: { error: unknown } | null): Promise<void>;
}
