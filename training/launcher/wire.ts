// Conversion between the host's snake_case JSON (training/PROTOCOL.md) and the camelCase types.
import { RUN_STATES, TRAINING_TASKS, type HostTarget, type MetricPoint, type RunSpec, type RunState, type RunStatus, type TrainingTask } from './types';
import { LauncherError } from './errors';

type Json = Record<string, unknown>;

export class ProtocolError extends LauncherError {}

const opt = <T>(v: unknown, check: (x: unknown) => x is T): T | undefined => (v === null || v === undefined ? undefined : check(v) ? v : undefined);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

export function isRunState(x: unknown): x is RunState {
  return typeof x === 'string' && (RUN_STATES as readonly string[]).includes(x);
}

export function isTrainingTask(x: unknown): x is TrainingTask {
  return typeof x === 'string' && (TRAINING_TASKS as readonly string[]).includes(x);
}

/** The spec.json a run folder gets; `datasetPath` is where the dataset lies as the host sees it. */
export function specToWire(spec: RunSpec, datasetPath: string, target: HostTarget): Json {
  return {
    name: spec.name,
    task: spec.task,
    backend: spec.backend,
    dataset: { format: spec.dataset.format, path: datasetPath },
    base_model: spec.baseModel,
    python: spec.python ?? null,
    steps: spec.steps,
    batch_size: spec.batchSize,
    grad_accum: spec.gradAccum,
    learning_rate: spec.learningRate,
    optimizer: spec.optimizer,
    warmup_steps: spec.warmupSteps,
    max_patches: spec.maxPatches,
    max_target_length: spec.maxTargetLength,
    eval_every: spec.evalEvery,
    save_every: spec.saveEvery,
    bf16: spec.bf16,
    num_processes: spec.numProcesses ?? null,
    seed: spec.seed,
    tpu:
      target.kind === 'tpu-vm'
        ? { name: target.name, zone: target.zone, project: target.project ?? null, accelerator_type: target.acceleratorType, runtime_version: target.runtimeVersion }
        : null,
  };
}

export function statusFromWire(raw: unknown): RunStatus {
  if (!raw || typeof raw !== 'object') throw new ProtocolError(`status is not an object: ${JSON.stringify(raw)}`);
  const w = raw as Json;
  if (!isRunState(w.state)) throw new ProtocolError(`status has an unknown state ${JSON.stringify(w.state)}`);
  return {
    state: w.state,
    phase: opt(w.phase, isStr),
    message: opt(w.message, isStr),
    updatedAt: isStr(w.updated_at) ? w.updated_at : '',
    pgid: opt(w.pgid, isNum),
    exitCode: opt(w.exit_code, isNum),
    step: opt(w.step, isNum),
    totalSteps: opt(w.total_steps, isNum),
    checkpoints: Array.isArray(w.checkpoints) ? w.checkpoints.filter(isStr) : [],
    finalCheckpoint: opt(w.final_checkpoint, isStr),
  };
}

export function metricFromWire(raw: unknown): MetricPoint {
  if (!raw || typeof raw !== 'object') throw new ProtocolError(`metric is not an object: ${JSON.stringify(raw)}`);
  const { step, time, split, ...rest } = raw as Json;
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(rest)) if (isNum(v)) values[k] = v;
  return { step: isNum(step) ? step : 0, time: isStr(time) ? time : '', split: split === 'eval' ? 'eval' : 'train', values };
}

/** One entry of `control.py list`. */
export interface RunListEntry {
  id: string;
  name: string;
  task: TrainingTask;
  state: RunState;
  updatedAt: string;
}

export function listEntryFromWire(raw: unknown): RunListEntry | null {
  if (!raw || typeof raw !== 'object') return null;
  const w = raw as Json;
  if (!isStr(w.id) || !isRunState(w.state)) return null;
  return { id: w.id, name: isStr(w.name) ? w.name : w.id, task: isTrainingTask(w.task) ? w.task : 'custom', state: w.state, updatedAt: isStr(w.updated_at) ? w.updated_at : '' };
}
