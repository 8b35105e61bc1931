// One fine-tuning run on a Cloud TPU VM, in the original workflow's order: create the VM (unless it
// exists) → copy the code → install on every worker → preprocess → t5x.train on every worker →
// convert to Hugging Face format → fetch the results → delete the VM (unless kept).
// Each phase is `python3 -m pix2struct_remote.tpu start PHASE RUNDIR` on the VM (detached, then
// `wait`ed for): fixed words and the run
// id only; the spec (bucket and every other user value) reaches the VM as JSON on stdin or as a file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Gcloud } from './gcloud';
import { TpuTransport, type TpuWorker } from './tpu-transport';
import { checkTpuTarget, deleteTpuVm, describeTpuVm, ensureTpuVm, tpuCostWarning, type TpuVmTarget } from './tpu-lifecycle';
import { ensureCodeBundle, mkdirRemote, readCodeBundle } from './code-bundle';
import { LauncherInputError, RemoteCommandError } from './errors';
import { tpuOptionsToWire } from './wire';
export { tpuOptionsToWire };

export type { TpuTrainingOptions } from './types';


export const TPU_PHASES = ['install', 'preprocess', 'train', 'convert'] as const;
export type TpuPhase = (typeof TPU_PHASES)[number];

export type TpuRunEvent =
  | { kind: 'cost-warning'; message: string }
  | { kind: 'progress'; message: string }
  | { kind: 'phase'; phase: TpuPhase; worker: TpuWorker }
  | { kind: 'deleted'; message: string }
  | { kind: 'kept'; message: string };

export interface TpuRunOptions {
  target: TpuVmTarget;
  /** Launcher-made run id (^[a-z0-9][a-z0-9-]{0,63}$). */
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

const RUN_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const FETCHED_FILES = ['spec.json', 'status.json', 'run.log', 'metrics.jsonl', 'tpu-dry-run.jsonl'];

export async function runOnTpuVm(options: TpuRunOptions): Promise<TpuRunResult> {
  const { target, runId, signal } = options;
  checkTpuTarget(target);
  if (!RUN_ID.test(runId)) throw new LauncherInputError(`Run id ${JSON.stringify(runId)} is not launcher-made.`);
  if (options.localDataset && !fs.existsSync(options.localDataset)) throw new LauncherInputError(`The dataset ${options.localDataset} does not exist on this machine.`);
  const gcloud = options.gcloud ?? new Gcloud();
  const emit = (event: TpuRunEvent) => options.onEvent?.(event);
  const remoteRoot = options.remoteRoot ?? '.pix2struct';
  const python = options.remotePython ?? 'python3';
  const remoteDir = `${remoteRoot}/runs/${runId}`;
  const costWarning = tpuCostWarning(target);
  emit({ kind: 'cost-warning', message: costWarning });

  if (options.resume && !(await describeTpuVm(gcloud, target, signal))) {
    throw new LauncherInputError(`TPU VM ${target.name} no longer exists, so run ${runId} cannot be resumed; a converted checkpoint is in the bucket's experiments/${runId}/hf_final.`);
  }
  const vm = await ensureTpuVm(gcloud, target, {
    signal,
    pollMs: options.pollMs,
    readyTimeoutMs: options.readyTimeoutMs,
    onProgress: (message) => emit({ kind: 'progress', message }),
  });
  const result: TpuRunResult = { remoteDir, workers: vm.workers, created: vm.created, deleted: false, costWarning };
  let failure: unknown = null;
  let current: { phase: TpuPhase; transport: TpuTransport; code: string } | null = null;
  try {
    const worker0 = new TpuTransport(target, { gcloud, worker: 0 });
    // One host: worker 0 is the whole VM. A slice: install and train on every host at once.
    const everyWorker = vm.workers > 1 ? worker0.onWorkers('all') : worker0;
    emit({ kind: 'progress', message: `Copying the launcher's code to ${vm.workers > 1 ? `all ${vm.workers} workers` : 'the VM'}…` });
    const code = await ensureCodeBundle(everyWorker, readCodeBundle(options.codeDir), remoteRoot, signal);
    if (!options.resume) {
      const specJson = JSON.stringify(options.spec);
      await check(worker0, [python, `${code}/control.py`, 'init', remoteDir], 'control.py init', { stdin: specJson, signal });
      for (let i = 1; i < vm.workers; i++) await uploadSpec(worker0.onWorkers(i), remoteDir, specJson, signal);
      if (options.localDataset) {
        await check(worker0, [python, `${code}/control.py`, 'set-state', remoteDir, 'uploading'], 'control.py set-state', { stdin: 'uploading the dataset', signal });
        await mkdirRemote(worker0, `${remoteDir}/upload/dataset`, signal);
        await worker0.upload(options.localDataset, `${remoteDir}/upload/dataset`, { signal });
      }
    }
    const waitArgv = (phase: TpuPhase) => ['env', `PYTHONPATH=${code}`, python, '-m', 'pix2struct_remote.tpu', 'wait', phase, remoteDir];
    for (const phase of TPU_PHASES) {
      const transport = phase === 'install' || phase === 'train' ? everyWorker : worker0;
      // Resuming (after a closed window): phases that ended are skipped, a running one is waited for.
      const before = options.resume ? await phaseState(worker0, waitArgv(phase), signal) : 'not-started';
      if (before === 'ok') continue;
      if (before === 'failed') throw new RemoteCommandError(worker0.label, `TPU ${phase}`, 1, '', 'the phase failed earlier; see the run log');
      current = { phase, transport, code };
      emit({ kind: 'phase', phase, worker: transport.worker });
      if (before === 'not-started') {
        // Started detached, so a dropped connection (or a closed window) does not end t5x.train.
        const start = ['env', `PYTHONPATH=${code}`, python, '-m', 'pix2struct_remote.tpu', 'start', phase, remoteDir, ...(options.dryRun ? ['--dry-run'] : [])];
        await check(transport, start, `TPU ${phase}`, { signal });
      }
      await waitForPhase(worker0, waitArgv(phase), phase, options, emit);
      current = null;
    }
  } catch (e) {
    failure = e;
    // Cancelled, or the phase failed on worker 0: stop it on every worker it runs on (t5x on the
    // other hosts of a slice would wait forever, and a kept VM would keep it running). A phase
    // merely out of reach is left alone, so that a resume can pick it up.
    const phaseFailed = e instanceof RemoteCommandError && !/\(waiting\)/.test(e.command);
    if (current && (signal?.aborted || phaseFailed)) {
      const { phase, transport, code } = current;
      emit({ kind: 'progress', message: `Stopping ${phase} on ${transport.label}…` });
      await transport.exec(['env', `PYTHONPATH=${code}`, python, '-m', 'pix2struct_remote.tpu', 'cancel', phase, remoteDir], { timeoutMs: 60_000 }).catch(() => undefined);
    }
  }
  try {
    if (options.localRunDir) await fetchRunFolder(new TpuTransport(target, { gcloud, worker: 0 }), remoteDir, options.localRunDir, !options.dryRun && failure === null);
  } catch (e) {
    failure ??= e;
  }
  // Billing stops only when the VM is gone: delete on success, failure and cancellation alike.
  if (target.keepAfterRun) {
    emit({ kind: 'kept', message: costWarning });
  } else {
    try {
      await deleteTpuVm(gcloud, target);
      result.deleted = true;
      emit({ kind: 'deleted', message: `Deleted TPU VM ${target.name}.` });
    } catch (e) {
      emit({ kind: 'progress', message: `Could not delete TPU VM ${target.name}: ${e instanceof Error ? e.message : String(e)} ${costWarning}` });
      failure ??= e;
    }
  }
  if (failure !== null) throw failure;
  return result;
}

/** Asks worker 0 until the phase ends; connection failures are retried until `giveUpAfterMs` passes without an answer. */
async function phaseState(worker0: TpuTransport, waitArgv: string[], signal?: AbortSignal): Promise<string> {
  const out = await check(worker0, [...waitArgv, '--timeout=0'], 'TPU phase state', { signal });
  return (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { state?: string }).state ?? 'not-started';
}

async function waitForPhase(
  worker0: TpuTransport,
  waitArgv: string[],
  phase: TpuPhase,
  options: TpuRunOptions,
  emit: (event: TpuRunEvent) => void,
): Promise<void> {
  const waitS = options.phaseWaitSeconds ?? 60;
  const giveUpAfterMs = options.giveUpAfterMs ?? 15 * 60_000;
  let lastAnswer = Date.now();
  for (;;) {
    const r = await worker0.exec([...waitArgv, `--timeout=${waitS}`], { signal: options.signal });
    let answer: { state?: string; message?: string } | undefined;
    try {
      answer = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    } catch {
      answer = undefined;
    }
    if (r.code === 0 && answer?.state) {
      lastAnswer = Date.now();
      if (answer.state === 'ok') return;
      if (answer.state === 'failed') throw new RemoteCommandError(worker0.label, `TPU ${phase}`, 1, '', answer.message || 'failed');
      if (answer.state === 'not-started') throw new RemoteCommandError(worker0.label, `TPU ${phase}`, 1, '', 'the phase never started on worker 0');
      continue;
    }
    if (Date.now() - lastAnswer > giveUpAfterMs) {
      throw new RemoteCommandError(worker0.label, `TPU ${phase} (waiting)`, r.code, r.stderr, 'no answer from the VM; the phase may still be running there');
    }
    emit({ kind: 'progress', message: `Lost the connection to ${worker0.label} while ${phase} runs; retrying…` });
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function check(transport: TpuTransport, argv: string[], what: string, options: { stdin?: string; signal?: AbortSignal }): Promise<string> {
  const r = await transport.exec(argv, options);
  if (r.code !== 0) {
    const lastLine = r.stdout.trim().split('\n').pop() ?? '';
    let detail: string | undefined;
    try {
      const parsed = JSON.parse(lastLine) as { error?: unknown };
      if (typeof parsed.error === 'string') detail = parsed.error;
    } catch {
      /* not control.py's JSON: stderr tells */
    }
    throw new RemoteCommandError(transport.label, what, r.code, r.stderr, detail);
  }
  return r.stdout;
}

/** spec.json for the other hosts of a slice (control.py init runs on worker 0 only). */
async function uploadSpec(transport: TpuTransport, remoteDir: string, specJson: string, signal?: AbortSignal): Promise<void> {
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-tpu-spec-'));
  try {
    fs.writeFileSync(path.join(local, 'spec.json'), specJson);
    await mkdirRemote(transport, remoteDir, signal);
    await transport.upload(local, remoteDir, { signal });
  } finally {
    fs.rmSync(local, { recursive: true, force: true });
  }
}

async function fetchRunFolder(worker0: TpuTransport, remoteDir: string, localDir: string, withCheckpoint: boolean): Promise<void> {
  fs.mkdirSync(localDir, { recursive: true });
  for (const name of FETCHED_FILES) {
    const r = await worker0.exec(['cat', `${remoteDir}/${name}`]);
    if (r.code === 0) fs.writeFileSync(path.join(localDir, name), r.stdout);
  }
  if (withCheckpoint) await worker0.download(`${remoteDir}/checkpoints/final`, path.join(localDir, 'checkpoints', 'final'));
}
