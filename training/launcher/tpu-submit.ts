// Starting (or resuming) a TPU VM run the way Launcher.submit starts an SSH run: the caller gets the
// RunRecord as soon as the run folder exists on the VM, while the original pipeline's phases
// (install → preprocess → train → convert → delete the VM) go on being driven in `done`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LauncherInputError } from './errors';
import { newRunId } from './run-id';
import { runOnTpuVm, type TpuRunEvent, type TpuRunResult } from './tpu-run';
import type { Gcloud } from './gcloud';
import type { TpuVmTarget } from './tpu-lifecycle';
import type { RunRecord, RunSpec } from './types';
import { specToWire } from './wire';

export interface TpuSubmitOptions {
  target: TpuVmTarget;
  spec: RunSpec;
  /** Local training/remote. */
  codeDir: string;
  remoteRoot?: string;
  gcloud?: Gcloud;
  onEvent?(event: TpuRunEvent): void;
  /** Aborting stops the driving (and the current phase on the VM), not just the wait. */
  signal?: AbortSignal;
  /** Reattach to this earlier run instead of starting a new one (after a window reload). */
  resume?: RunRecord;
  /** Record the pipeline's command lines on the VM instead of running them (see runOnTpuVm). */
  dryRun?: boolean;
  pollMs?: number;
}

export interface TpuSubmission {
  record: RunRecord;
  /** Settles when the whole workflow has ended (VM deleted or kept). */
  done: Promise<TpuRunResult>;
}

export async function submitTpuRun(options: TpuSubmitOptions): Promise<TpuSubmission> {
  const { target, spec, resume } = options;
  if (spec.backend !== 'tpu') throw new LauncherInputError('A Cloud TPU VM runs the original t5x pipeline: the spec needs backend "tpu".');
  if (!spec.tpu?.bucket) throw new LauncherInputError('A TPU run needs a Cloud Storage bucket (gs://…) for its data and checkpoints.');
  const remoteRoot = options.remoteRoot ?? '.pix2struct';
  const localDataset = spec.dataset.location === 'local' ? path.resolve(spec.dataset.path) : undefined;
  if (localDataset && !resume && !fs.existsSync(localDataset)) throw new LauncherInputError(`The dataset ${localDataset} does not exist on this machine.`);
  const id = resume?.id ?? newRunId();
  const record: RunRecord = resume ?? { id, name: spec.name, task: spec.task, target, remoteDir: `${remoteRoot}/runs/${id}`, createdAt: new Date().toISOString() };

  let started!: () => void;
  const folderReady = new Promise<void>((resolve) => (started = resolve));
  const done = runOnTpuVm({
    target,
    runId: id,
    spec: specToWire(spec, localDataset ? 'upload/dataset' : spec.dataset.path, target),
    codeDir: options.codeDir,
    remoteRoot,
    ...(options.gcloud ? { gcloud: options.gcloud } : {}),
    ...(localDataset && !resume ? { localDataset } : {}),
    ...(resume ? { resume: true } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onEvent: (event) => {
      // The first phase starts only after control.py init: from then on status/tail can follow it.
      if (event.kind === 'phase') started();
      options.onEvent?.(event);
    },
  });
  await Promise.race([folderReady, done]);
  return { record, done };
}
