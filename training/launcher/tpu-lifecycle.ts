// A Cloud TPU VM's life around one run, as in the original workflow: create it if missing
// (`tpu-vm create NAME --zone --accelerator-type --version`), wait until READY, and delete it when
// the run ends unless the user keeps it. A TPU VM bills for every hour it exists, so the UI shows
// tpuCostWarning() before anything is created.
import type { HostTarget } from './types';
import { Gcloud, GcloudCommandError, GcloudError, classifyGcloudFailure } from './gcloud';
import { checkTpuVmRef, locationArgs } from './tpu-transport';
import { LauncherInputError } from './errors';
import { sleep } from './backoff';

export type TpuVmTarget = Extract<HostTarget, { kind: 'tpu-vm' }>;

export interface TpuVmInfo {
  state: string;
  acceleratorType: string;
  /** Hosts of the slice (networkEndpoints); more than one needs --worker=all for install and train. */
  workers: number;
}

export class TpuVmNotReadyError extends GcloudError {
  constructor(readonly vmName: string, readonly state: string, readonly waitedMs: number) {
    super(`TPU VM ${vmName} is ${state} after ${Math.round(waitedMs / 1000)} s, not READY. Check it in the Cloud console (quota, preemption, maintenance); it may still be billing.`);
  }
}

const ACCELERATOR = /^v[0-9][a-z0-9]*-[0-9]+$/;
const RUNTIME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export function checkTpuTarget(target: TpuVmTarget): void {
  checkTpuVmRef(target);
  if (!ACCELERATOR.test(target.acceleratorType)) throw new LauncherInputError(`"${target.acceleratorType}" is not a TPU accelerator type (for example v3-8, v4-16, v5litepod-8).`);
  if (!RUNTIME.test(target.runtimeVersion)) throw new LauncherInputError(`"${target.runtimeVersion}" is not a TPU runtime version (for example tpu-vm-base).`);
}

/**
 * Hosts in a slice from its accelerator type, before it exists. v2/v3/v4/v5p count TensorCores
 * (8 per host); v5e (v5litepod) and v6e count chips: up to 8 on one host, 4 per host beyond.
 * describe's networkEndpoints is authoritative once the VM exists.
 */
export function hostsForAcceleratorType(acceleratorType: string): number {
  const match = /^(v[0-9][a-z0-9]*)-([0-9]+)$/.exec(acceleratorType);
  if (!match) return 1;
  const family = match[1];
  const count = Number(match[2]);
  if (family === 'v5litepod' || family === 'v6e' || family === 'v5e') return count <= 8 ? 1 : Math.ceil(count / 4);
  return Math.max(1, Math.ceil(count / 8));
}

/** The sentence the UI shows before creating (or reusing) a TPU VM. */
export function tpuCostWarning(target: TpuVmTarget): string {
  const hosts = hostsForAcceleratorType(target.acceleratorType);
  const what = `TPU VM ${target.name} (${target.acceleratorType}${hosts > 1 ? `, ${hosts} hosts` : ''}, ${target.zone})`;
  const deleteCommand = `gcloud compute tpus tpu-vm delete ${target.name} --zone=${target.zone}${target.project ? ` --project=${target.project}` : ''}`;
  return target.keepAfterRun
    ? `${what} is billed by the hour while it exists, busy or idle, and will be KEPT after the run: it keeps billing until you delete it (${deleteCommand}).`
    : `${what} is billed by the hour while it exists; it will be deleted when the run ends (succeeded, failed or cancelled). If this window closes first, delete it yourself: ${deleteCommand}.`;
}

interface DescribeJson {
  state?: string;
  acceleratorType?: string;
  networkEndpoints?: unknown[];
}

const NOT_FOUND = /NOT_FOUND|was not found|does not exist/i;

/** The VM as the API describes it, or null when there is none of that name in the zone. */
export async function describeTpuVm(gcloud: Gcloud, target: TpuVmTarget, signal?: AbortSignal): Promise<TpuVmInfo | null> {
  let raw: DescribeJson;
  try {
    raw = await gcloud.json<DescribeJson>(['compute', 'tpus', 'tpu-vm', 'describe', target.name, ...locationArgs(target)], { signal });
  } catch (e) {
    if (e instanceof GcloudCommandError && NOT_FOUND.test(e.stderr)) return null;
    throw e;
  }
  const acceleratorType = raw.acceleratorType?.split('/').pop() || target.acceleratorType;
  const endpoints = Array.isArray(raw.networkEndpoints) ? raw.networkEndpoints.length : 0;
  return { state: raw.state ?? 'STATE_UNSPECIFIED', acceleratorType, workers: endpoints || hostsForAcceleratorType(acceleratorType) };
}

export interface EnsureOptions {
  signal?: AbortSignal;
  pollMs?: number;
  readyTimeoutMs?: number;
  onProgress?(message: string): void;
}

/** Creates the VM unless it exists, then waits for READY; `created` says whether this call made it. */
export async function ensureTpuVm(gcloud: Gcloud, target: TpuVmTarget, options: EnsureOptions = {}): Promise<TpuVmInfo & { created: boolean }> {
  checkTpuTarget(target);
  const { signal, onProgress } = options;
  let info = await describeTpuVm(gcloud, target, signal);
  let created = false;
  if (!info) {
    onProgress?.(`Creating TPU VM ${target.name} (${target.acceleratorType}, ${target.zone})…`);
    await gcloud.check(
      ['compute', 'tpus', 'tpu-vm', 'create', target.name, ...locationArgs(target), `--accelerator-type=${target.acceleratorType}`, `--version=${target.runtimeVersion}`],
      { signal },
    );
    created = true;
    info = await describeTpuVm(gcloud, target, signal);
  } else if (info.acceleratorType !== target.acceleratorType) {
    onProgress?.(`TPU VM ${target.name} exists as ${info.acceleratorType} (not ${target.acceleratorType}); using it as it is.`);
  }
  const pollMs = options.pollMs ?? 10_000;
  const timeoutMs = options.readyTimeoutMs ?? 20 * 60_000;
  const started = Date.now();
  while (!info || info.state !== 'READY') {
    const state = info?.state ?? 'missing';
    if (['PREEMPTED', 'TERMINATED', 'STOPPED', 'STOPPING', 'DELETING'].includes(state) || Date.now() - started > timeoutMs) {
      throw new TpuVmNotReadyError(target.name, state, Date.now() - started);
    }
    onProgress?.(`Waiting for TPU VM ${target.name} (${state})…`);
    await sleep(pollMs, signal);
    info = await describeTpuVm(gcloud, target, signal);
  }
  return { ...info, created };
}

/** Deletes the VM (and everything on its disk); a VM already gone is not an error. */
export async function deleteTpuVm(gcloud: Gcloud, target: TpuVmTarget, signal?: AbortSignal): Promise<void> {
  const result = await gcloud.run(['compute', 'tpus', 'tpu-vm', 'delete', target.name, ...locationArgs(target), '--quiet'], { signal });
  if (result.code !== 0 && !NOT_FOUND.test(result.stderr)) {
    throw classifyGcloudFailure(['compute', 'tpus', 'tpu-vm', 'delete'], result.code, result.stderr);
  }
}
