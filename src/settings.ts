import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DEFAULT_MODEL_FOR_TASK,
  findRegistryEntry,
  maxNewTokensFor,
  OPTIMUM_VARIANTS,
  type OptimumVariant,
  type OutputKind,
  type Pix2StructTask,
} from '../model-runtime/src/index';
import type { ExecutionProviderSetting, PrecisionSetting } from './protocol/common';
import type { TaskId } from './protocol/describe-result';

/** The extension's settings, read fresh for every request so changes apply at once. */
export interface Settings {
  /** Per task: a Pix2Struct checkpoint folder or a Hugging Face Hub id. */
  models: Record<TaskId, string>;
  maxPatches: number | undefined;
  /** The user's token budget; undefined (setting 0) leaves it to the checkpoint, then the task. */
  maxNewTokens: number | undefined;
  executionProvider: ExecutionProviderSetting;
  precision: PrecisionSetting;
  threads: number | undefined;
  idleUnloadMinutes: number;
  /** RefExp checkpoint for Find Element and for grounding UI-structure nodes (folder or Hub id). */
  refexpModelPath: string;
  /** Which graphs of an ONNX-export checkpoint to download and run; checkpoints with weights ignore it. */
  onnxVariant: OptimumVariant;
}

/** pix2struct.onnxVariant; a value that names no variant reads as the default. */
export function onnxVariantSetting(): OptimumVariant {
  const value = vscode.workspace.getConfiguration('pix2struct').get<string>('onnxVariant', 'default');
  return OPTIMUM_VARIANTS.includes(value as OptimumVariant) ? (value as OptimumVariant) : 'default';
}

/**
 * The Hugging Face hub cache the extension downloads into and looks in; undefined means the
 * standard one (HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), shared with Python.
 */
export function hubCacheDir(): string | undefined {
  const value = vscode.workspace.getConfiguration('pix2struct').get<string>('cacheFolder', '').trim();
  if (!value) return undefined;
  return path.resolve(value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value);
}

export const DEFAULT_REFEXP_MODEL = DEFAULT_MODEL_FOR_TASK.refexp!;

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('pix2struct');
  const positive = (v: number | undefined) => (typeof v === 'number' && v > 0 ? v : undefined);
  return {
    models: {
      describe: c.get<string>('modelPath', 'google/pix2struct-textcaps-base'),
      ask: c.get<string>('questionModelPath', 'google/pix2struct-docvqa-base'),
      summarize: c.get<string>('summaryModelPath', 'google/pix2struct-screen2words-base'),
      ui: c.get<string>('uiModelPath', 'google/pix2struct-base'),
      table: c.get<string>('chartModelPath', 'google/deplot'),
      widget: c.get<string>('widgetModelPath', 'google/pix2struct-widget-captioning-base'),
    },
    maxPatches: positive(c.get<number>('maxPatches')),
    maxNewTokens: positive(c.get<number>('maxNewTokens')),
    executionProvider: c.get<ExecutionProviderSetting>('executionProvider', 'auto'),
    precision: c.get<PrecisionSetting>('precision', 'auto'),
    threads: positive(c.get<number>('threads')),
    idleUnloadMinutes: c.get<number>('idleUnloadMinutes', 10),
    refexpModelPath: c.get<string>('refexpModelPath', DEFAULT_REFEXP_MODEL),
    onnxVariant: onnxVariantSetting(),
  };
}

/** What each panel task asks its checkpoint for, in the registry's terms. */
const TASK_KIND: Record<TaskId, [Pix2StructTask, OutputKind]> = {
  describe: ['captioning', 'caption'],
  ask: ['doc-vqa', 'answer'],
  summarize: ['screen-summary', 'caption'],
  ui: ['screenshot-parsing', 'html'],
  table: ['chart-to-table', 'table'],
  widget: ['widget-captioning', 'caption'],
};

/**
 * The token budget a task gets when neither the setting nor the checkpoint sets one: the
 * registry's for a known Hub id (a MatCha chart summary runs longer than a caption), else the task's.
 */
export function taskMaxNewTokens(task: TaskId, modelSetting: string): number {
  return findRegistryEntry(modelSetting)?.maxNewTokens ?? maxNewTokensFor(...TASK_KIND[task]);
}
