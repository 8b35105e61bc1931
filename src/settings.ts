import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_MODEL_FOR_TASK } from '../model-runtime/src/registry';
import type { ExecutionProviderSetting, PrecisionSetting, TaskId } from './protocol';

/** The extension's settings, read fresh for every request so changes apply at once. */
export interface Settings {
  /** Per task: a Pix2Struct checkpoint folder or a Hugging Face Hub id. */
  models: Record<TaskId, string>;
  maxPatches: number | undefined;
  maxNewTokens: number;
  executionProvider: ExecutionProviderSetting;
  precision: PrecisionSetting;
  threads: number | undefined;
  idleUnloadMinutes: number;
  /** RefExp checkpoint for Find Element and for grounding UI-structure nodes (folder or Hub id). */
  refexpModelPath: string;
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
    maxNewTokens: c.get<number>('maxNewTokens', 64),
    executionProvider: c.get<ExecutionProviderSetting>('executionProvider', 'auto'),
    precision: c.get<PrecisionSetting>('precision', 'auto'),
    threads: positive(c.get<number>('threads')),
    idleUnloadMinutes: c.get<number>('idleUnloadMinutes', 10),
    refexpModelPath: c.get<string>('refexpModelPath', DEFAULT_REFEXP_MODEL),
  };
}
