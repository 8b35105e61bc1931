// The RunDriver of a Cloud TPU VM run, in the original workflow's order: create the VM (unless it
// exists) → copy the code to every worker → init and upload → the pipeline's phases (TpuPhaseStep)
// → fetch the results → delete the VM (unless kept). runOnTpuVm (tpu-run.ts) drives it.
import type { LauncherSideState, RunDriver } from './run-driver';
import type { TpuRunEvent, TpuRunOptions, TpuRunResult } from './tpu-run';
import { Gcloud } from './gcloud';
import { TpuTransport } from './tpu-transport';
import { deleteTpuVm, describeTpuVm, ensureTpuVm, tpuCostWarning } from './tpu-lifecycle';
import { ensureCodeBundle, mkdirRemote, readCodeBundle } from './code-bundle';
import { controlArgv, runJsonCommand, type RemoteCode } from './host-commands';
import { TPU_PHASES, TpuPhaseStep } from './tpu-phase-step';
import { fetchRunFolder, uploadSpec } from './tpu-run-folder';
import { LauncherInputError } from './errors';

export class TpuRunDriver implements RunDriver<TpuPhaseStep> {
  readonly label: string;
  readonly result: TpuRunResult;
  private readonly gcloud: Gcloud;
  private readonly python: string;
  private readonly worker0: TpuTransport;
  private everyWorker: TpuTransport;
  private code: RemoteCode | null = null;

  constructor(private readonly run: TpuRunOptions, private readonly emit: (event: TpuRunEvent) => void) {
    this.gcloud = run.gcloud ?? new Gcloud();
    this.python = run.remotePython ?? 'python3';
    this.worker0 = new TpuTransport(run.target, { gcloud: this.gcloud, worker: 0 });
    this.everyWorker = this.worker0;
    this.label = this.worker0.label;
    const remoteDir = `${run.remoteRoot ?? '.pix2struct'}/runs/${run.runId}`;
    this.result = { remoteDir, workers: 1, created: false, deleted: false, costWarning: tpuCostWarning(run.target) };
  }

  async provision(signal?: AbortSignal): Promise<void> {
    const { target, runId } = this.run;
    if (this.run.resume && !(await describeTpuVm(this.gcloud, target, signal))) {
      throw new LauncherInputError(`TPU VM ${target.name} no longer exists, so run ${runId} cannot be resumed; a converted checkpoint is in the bucket's experiments/${runId}/hf_final.`);
    }
    const vm = await ensureTpuVm(this.gcloud, target, {
      signal,
      pollMs: this.run.pollMs,
      readyTimeoutMs: this.run.readyTimeoutMs,
      onProgress: (message) => this.emit({ kind: 'progress', message }),
    });
    this.result.workers = vm.workers;
    this.result.created = vm.created;
    // One host: worker 0 is the whole VM. A slice: install and train on every host at once.
    this.everyWorker = vm.workers > 1 ? this.worker0.onWorkers('all') : this.worker0;
  }

  async deployCode(signal?: AbortSignal): Promise<void> {
    const workers = this.result.workers;
    this.emit({ kind: 'progress', message: `Copying the launcher's code to ${workers > 1 ? `all ${workers} workers` : 'the VM'}…` });
    const dir = await ensureCodeBundle(this.everyWorker, readCodeBundle(this.run.codeDir), this.run.remoteRoot ?? '.pix2struct', signal);
    this.code = { python: this.python, dir };
  }

  async createRun(onState: (state: LauncherSideState) => void, signal?: AbortSignal): Promise<void> {
    const { remoteDir, workers } = this.result;
    const specJson = JSON.stringify(this.run.spec);
    await this.control(['init', remoteDir], { stdin: specJson, signal });
    onState('preparing');
    for (let i = 1; i < workers; i++) await uploadSpec(this.worker0.onWorkers(i), remoteDir, specJson, signal);
    const dataset = this.run.localDataset;
    if (dataset) {
      await this.control(['set-state', remoteDir, 'uploading'], { stdin: 'uploading the dataset', signal });
      onState('uploading');
      await mkdirRemote(this.worker0, `${remoteDir}/upload/dataset`, signal);
      await this.worker0.upload(dataset, `${remoteDir}/upload/dataset`, { signal });
    }
  }

  steps(): readonly TpuPhaseStep[] {
    if (!this.code) throw new Error('deployCode comes first');
    const context = {
      worker0: this.worker0,
      everyWorker: this.everyWorker,
      code: this.code,
      remoteDir: this.result.remoteDir,
      dryRun: this.run.dryRun ?? false,
      waitSeconds: this.run.phaseWaitSeconds ?? 60,
      onProgress: (message: string) => this.emit({ kind: 'progress', message }),
    };
    return TPU_PHASES.map((phase) => new TpuPhaseStep(phase, context));
  }

  async markFailed(reason: string): Promise<void> {
    await this.control(['set-state', this.result.remoteDir, 'failed'], { stdin: `submit failed: ${reason}` });
  }

  /** The results come home first; then billing stops only when the VM is gone: delete on success, failure and cancellation alike. */
  async release(failure: { error: unknown } | null): Promise<void> {
    let first: { error: unknown } | null = null;
    try {
      const localRunDir = this.run.localRunDir;
      if (localRunDir) await fetchRunFolder(this.worker0, this.result.remoteDir, localRunDir, !this.run.dryRun && failure === null);
    } catch (error) {
      first = { error };
    }
    try {
      await this.deleteUnlessKept();
    } catch (error) {
      first ??= { error };
    }
    if (first) throw first.error;
  }

  private async deleteUnlessKept(): Promise<void> {
    const { target } = this.run;
    const costWarning = this.result.costWarning;
    if (target.keepAfterRun) {
      this.emit({ kind: 'kept', message: costWarning });
      return;
    }
    try {
      await deleteTpuVm(this.gcloud, target);
    } catch (e) {
      this.emit({ kind: 'progress', message: `Could not delete TPU VM ${target.name}: ${e instanceof Error ? e.message : String(e)} ${costWarning}` });
      throw e;
    }
    this.result.deleted = true;
    this.emit({ kind: 'deleted', message: `Deleted TPU VM ${target.name}.` });
  }

  private control(args: string[], options: { stdin?: string; signal?: AbortSignal }): Promise<unknown> {
    if (!this.code) throw new Error('deployCode comes first');
    return runJsonCommand(this.worker0, this.code, controlArgv(this.code, args), `control.py ${args[0]}`, options);
  }
}
