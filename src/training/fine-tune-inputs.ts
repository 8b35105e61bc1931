// Validation and defaults for the Fine-tune on Remote Host wizard. Pure (no vscode import): each
// validator returns an error message for the input box, or undefined when the text is fine.
import type { RunSpec, TpuTrainingOptions, TrainingTask } from '../../training/launcher/types';

export interface NumberRule {
  label: string;
  min: number;
  max: number;
  integer: boolean;
}

export const STEPS: NumberRule = { label: 'Steps', min: 1, max: 1_000_000, integer: true };
export const BATCH_SIZE: NumberRule = { label: 'Batch size', min: 1, max: 1024, integer: true };
export const LEARNING_RATE: NumberRule = { label: 'Learning rate', min: 1e-8, max: 1, integer: false };
// Pix2Struct was trained with 2048 (base) and 4096 (large) patches; below 64 a screenshot is mush.
export const MAX_PATCHES: NumberRule = { label: 'Max patches', min: 64, max: 16_384, integer: true };

const NUMBER_TEXT = /^[+]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** Parses `text` under `rule`; throws nothing, returns the value or the message to show. */
export function parseNumber(text: string, rule: NumberRule): { value: number } | { error: string } {
  const t = text.trim().replace(/_/g, '');
  if (t === '') return { error: `${rule.label} is required.` };
  if (!NUMBER_TEXT.test(t)) return { error: `${rule.label} must be a number, got "${text.trim()}".` };
  const value = Number(t);
  if (rule.integer && !Number.isInteger(value)) return { error: `${rule.label} must be a whole number.` };
  if (value < rule.min || value > rule.max) return { error: `${rule.label} must be between ${rule.min} and ${rule.max}.` };
  return { value };
}

export const numberError = (rule: NumberRule) => (text: string): string | undefined => {
  const r = parseNumber(text, rule);
  return 'error' in r ? r.error : undefined;
};

/**
 * An SSH destination typed by hand: an alias, host or user@host[:port-less]. It reaches ssh's argv,
 * so a leading '-' (an option) and whitespace or shell characters are refused outright.
 */
export function sshHostError(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return 'Enter a host alias from ~/.ssh/config or user@host.';
  if (t.startsWith('-')) return 'A host cannot start with "-".';
  if (!/^[A-Za-z0-9._@%+\[\]:-]+$/.test(t)) return 'Use letters, digits and . _ - @ only (an alias from ~/.ssh/config or user@host).';
  if ((t.match(/@/g) ?? []).length > 1) return 'Use at most one "@" (user@host).';
  return undefined;
}

/** Cloud TPU VM names follow Compute Engine resource names. */
export function tpuNameError(text: string): string | undefined {
  return /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text.trim())
    ? undefined
    : 'Lowercase letters, digits and "-", starting with a letter, at most 63 characters.';
}

export function zoneError(text: string): string | undefined {
  return /^[a-z]+-[a-z]+\d+-[a-z]$/.test(text.trim()) ? undefined : 'A zone such as us-central2-b or europe-west4-a.';
}

export function acceleratorTypeError(text: string): string | undefined {
  return /^v\d+[a-z]*-\d+$/.test(text.trim()) ? undefined : 'An accelerator type such as v2-8, v3-8, v4-8 or v5litepod-8.';
}

/** A dataset folder on the host: absolute, or under the login's home (~/...). */
export function remotePathError(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return 'Enter the dataset folder on the host.';
  if (/[\u0000-\u001f]/.test(t)) return 'The path contains control characters.';
  if (!t.startsWith('/') && !t.startsWith('~/')) return 'Use an absolute path (/data/...) or one under your home (~/...).';
  return undefined;
}

export function runNameError(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return 'Give the run a name.';
  if (t.length > 100) return 'At most 100 characters.';
  if (/[\u0000-\u001f\u007f]/.test(t)) return 'The name contains control characters.';
  return undefined;
}

/** A base checkpoint typed by hand: a Hub id (owner/name) or a path on the host. */
export function baseModelError(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return 'Enter a Hugging Face Hub id (owner/name) or a checkpoint folder on the host.';
  if (t.startsWith('/') || t.startsWith('~/')) return remotePathError(t);
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(t) ? undefined : 'A Hub id looks like owner/name; a host folder starts with / or ~/.';
}

export interface WizardChoices {
  name: string;
  task: TrainingTask;
  dataset: RunSpec['dataset'];
  baseModel: string;
  backend: RunSpec['backend'];
  steps: number;
  batchSize: number;
  learningRate: number;
  maxPatches: number;
  /** An interpreter on the host that has the training requirements; undefined: the run makes a venv. */
  python?: string;
  /** Cloud TPU runs: the original pipeline's bucket and model size. */
  tpu?: TpuTrainingOptions;
}

/** The wizard's answers plus the defaults for everything it does not ask. */
export function buildRunSpec(c: WizardChoices): RunSpec {
  // Evaluate and save about four times per run, and warm up over the first tenth.
  const every = Math.max(1, Math.round(c.steps / 4));
  return {
    name: c.name.trim(),
    task: c.task,
    backend: c.backend,
    dataset: c.dataset,
    baseModel: c.baseModel.trim(),
    ...(c.python ? { python: c.python } : {}),
    steps: c.steps,
    batchSize: c.batchSize,
    gradAccum: 1,
    learningRate: c.learningRate,
    optimizer: 'adafactor',
    warmupSteps: Math.min(1000, Math.round(c.steps / 10)),
    maxPatches: c.maxPatches,
    maxTargetLength: c.task === 'custom' ? 512 : 128,
    evalEvery: every,
    saveEvery: every,
    bf16: 'auto',
    seed: 0,
    ...(c.tpu ? { tpu: c.tpu } : {}),
  };
}

/** The README's PIX2STRUCT_DIR: a Cloud Storage bucket (optionally a folder in it) that t5x reads and writes. */
export function bucketError(text: string): string | undefined {
  const t = text.trim();
  if (!/^gs:\/\/[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](\/[A-Za-z0-9._\/-]*)?$/.test(t)) {
    return 'A Cloud Storage location like gs://my-bucket/pix2struct (letters, digits, . _ - and / only).';
  }
  return undefined;
}

/** t5x's gin size for a base checkpoint: the Large models are named so on the Hub. */
export function ginSizeFor(baseModel: string): 'base' | 'large' {
  return /large/i.test(baseModel) ? 'large' : 'base';
}

/** A default run name: task and local time, e.g. "docvqa 2026-11-24 21:15". */
export function defaultRunName(task: TrainingTask, now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${task} ${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())} ${p(now.getHours())}:${p(now.getMinutes())}`;
}
