// The launcher's public types: what src/ (VS Code) sees of a remote fine-tuning run.
// The wire format on the host is in training/PROTOCOL.md (snake_case there, camelCase here).

import type { RunState } from './run-states';

export { RUN_STATES, TERMINAL_STATES, isTerminal, type RunState, type TerminalState } from './run-states';

export const TRAINING_TASKS = [
  'textcaps', 'chartqa', 'screen2words', 'widget_captioning', 'refexp',
  'docvqa', 'infographicvqa', 'ocrvqa', 'ai2d', 'custom',
] as const;
export type TrainingTask = (typeof TRAINING_TASKS)[number];

/** Where a run executes. */
export type HostTarget =
  /** A host alias (or user@host) resolved by the user's ~/.ssh/config and system OpenSSH. */
  | { kind: 'ssh'; host: string }
  /** A Cloud TPU VM reached through the gcloud CLI; created for the run unless it exists. */
  | { kind: 'tpu-vm'; name: string; zone: string; project?: string; acceleratorType: string; runtimeVersion: string; keepAfterRun: boolean };

export interface DatasetSpec {
  format: TrainingTask;
  /** A path on the user's machine (uploaded into the run folder) or on the host. */
  path: string;
  location: 'local' | 'remote';
}

/** What the original pipeline needs beyond a RunSpec (spec.json's "tpu" object). */
export interface TpuTrainingOptions {
  /** gs://bucket[/path]: the README's PIX2STRUCT_DIR (data, experiments). */
  bucket: string;
  ginSize: 'base' | 'large';
  /** configs/init/<init>.gin; default pix2struct_<size>_init. */
  init?: string;
  /** MIXTURE_OR_TASK_NAME; default the task. */
  mixture?: string;
  /** Overrides the schedule's STAGE_STEPS; default the paper's schedule. */
  stageSteps?: number;
  /** Run the Beam converter on Dataflow in this project/region; default locally on the VM. */
  dataflow?: { project: string; region: string };
}

export interface RunSpec {
  name: string;
  task: TrainingTask;
  backend: 'gpu' | 'tpu';
  dataset: DatasetSpec;
  baseModel: string;
  /** An interpreter on the host that already has the requirements; undefined: make a venv there. */
  python?: string;
  steps: number;
  batchSize: number;
  gradAccum: number;
  learningRate: number;
  optimizer: 'adafactor' | 'adamw';
  warmupSteps: number;
  maxPatches: number;
  maxTargetLength: number;
  evalEvery: number;
  saveEvery: number;
  bf16: 'auto' | 'on' | 'off';
  numProcesses?: number;
  seed: number;
  /** backend 'tpu' only: the original t5x pipeline's settings. */
  tpu?: TpuTrainingOptions;
}

export interface RunStatus {
  state: RunState;
  phase?: string;
  message?: string;
  updatedAt: string;
  pgid?: number;
  exitCode?: number;
  step?: number;
  totalSteps?: number;
  checkpoints: string[];
  finalCheckpoint?: string;
}

/** One line of metrics.jsonl. */
export interface MetricPoint {
  step: number;
  time: string;
  split: 'train' | 'eval';
  /** loss, learning_rate and the task's metrics (cider, anls, relaxed_accuracy, …), names verbatim. */
  values: Record<string, number>;
}

/** What the launcher remembers locally to find a run again; everything else is on the host. */
export interface RunRecord {
  id: string;
  name: string;
  task: TrainingTask;
  target: HostTarget;
  /** Run folder relative to the host's home, e.g. .pix2struct/runs/<id>. */
  remoteDir: string;
  createdAt: string;
}

export interface TailHandlers {
  onLog?(text: string): void;
  onMetric?(point: MetricPoint): void;
  onStatus?(status: RunStatus): void;
  /** The connection dropped and the launcher is reconnecting (attempt counts from 1). */
  onReconnect?(attempt: number, reason: string): void;
}

export interface TailPosition {
  logOffset: number;
  metricsOffset: number;
}
