// One fine-tuning run on a Cloud TPU VM, in the original workflow's order: create the VM (unless it
// exists) → copy the code → install on every worker → preprocess → t5x.train on every worker →
// convert to Hugging Face format → fetch the results → delete the VM (unless kept).
// TpuRunDriver implements those steps and runLifecycle drives them, as it drives SSH runs. Each phase
// is `python3 -m pix2struct_remote.tpu start PHASE RUNDIR` on the VM (detached, then `wait`ed for):
// fixed words and the run id only; the spec (bucket and every other user value) reaches the VM as
// JSON on stdin or as a file.
import * as fs from 'node:fs';
import type { Gcloud } from './gcloud';
import type { TpuWorker } from './tpu-transport';
import { checkTpuTarget, type TpuVmTarget } from './tpu-lifecycle';
import { LauncherInputError } from './errors';
import { isRunId } from './run-id';
import { runLifecycle } from './run-lifecycle';
import { TpuRunDriver } from './tpu-run-driver';
import { TPU_PHASES, type TpuPhase } from './tpu-phase-step';
import { tpuOptionsToWire } from './wire';
export { tpuOptionsToWire, TPU_PHASES, type TpuPhase };

export type { TpuTrainingOptions } from './types';

export type TpuRunEvent =
  | { kind: 'cost-warning'; message: string }
  | { kind: 'progress'; message: string }
  | { kind: 'phase'; phase: TpuPhase; worker: TpuWorker }
  | { kind: 'deleted'; message: string }
  | { kind: 'kept'; message: string };

export interface TpuRunOptions {
  target: TpuVmTarget;
  /** Launcher-made run id (run-id.ts). */
  runId: string;
  /** The run's spec.json (snake_case), with its "tpu" object. */
  spec: Record<string, unknown>;
  /** Local training/remote. */
  codeDir: string;
  gcloud?: Gcloud;
  remoteRoot?: string;
  /** Interpreter on the VM for control.py and the pipeline (standard library only). */
  remotePython?: string;
  /** A dataset folder on this machine, copied to the run's upload/dataset. */
  localDataset?: string;
  /** Reattach to a run this launcher started earlier (same runId): no init or upload; ended phases are skipped. */
  resume?: boolean;
  /** Record every command of the pipeline on the VM instead of running it. */
  dryRun?: boolean;
  /** Before the VM goes, its run folder's status, log, metrics and checkpoints/final land here. */
  localRunDir?: string;
  onEvent?(event: TpuRunEvent): void;
  signal?: AbortSignal;
  pollMs?: number;
  readyTimeoutMs?: number;
  /** Longest single `wait` call on the VM, in seconds (default 60). */
  phaseWaitSeconds?: number;
  /** Give up waiting for a phase after this long without an answer from the VM (default 15 min). */
  giveUpAfterMs?: number;
}

export interface TpuRunResult {
  remoteDir: string;
  workers: number;
  created: boolean;
  deleted: boolean;
  costWarning: string;
}

export async function runOnTpuVm(options: TpuRunOptions): Promise<TpuRunResult> {
  checkTpuTarget(options.target);
  if (!isRunId(options.runId)) throw new LauncherInputError(`Run id ${JSON.stringify(options.runId)} is not launcher-made.`);
  if (options.localDataset && !fs.existsSync(options.localDataset)) throw new LauncherInputError(`The dataset ${options.localDataset} does not exist on this machine.`);
  const emit = (event: TpuRunEvent) => options.onEvent?.(event);
  const driver = new TpuRunDriver(options, emit);
  emit({ kind: 'cost-warning', message: driver.result.costWarning });
  await runLifecycle(driver, {
    signal: options.signal,
    resume: options.resume,
    polling: options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs },
    onStep: (step) => emit({ kind: 'phase', phase: step.phase, worker: step.transport.worker }),
    onRetry: (step) => emit({ kind: 'progress', message: `Lost the connection to ${driver.label} while ${step.phase} runs; retrying…` }),
  });
  return driver.result;
}
