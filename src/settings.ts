import * as vscode from 'vscode';
import type { ExecutionProviderSetting } from './protocol';

/** The extension's settings, read fresh for every request so changes apply at once. */
export interface Settings {
  /** A Pix2Struct checkpoint folder or a Hugging Face Hub id. */
  modelPath: string;
  /** The VQA checkpoint used by "Ask About Image". */
  questionModelPath: string;
  maxPatches: number | undefined;
  maxNewTokens: number;
  executionProvider: ExecutionProviderSetting;
  threads: number | undefined;
  idleUnloadMinutes: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('pix2struct');
  const positive = (v: number | undefined) => (typeof v === 'number' && v > 0 ? v : undefined);
  return {
    modelPath: c.get<string>('modelPath', 'google/pix2struct-screen2words-base'),
    questionModelPath: c.get<string>('questionModelPath', 'google/pix2struct-docvqa-base'),
    maxPatches: positive(c.get<number>('maxPatches')),
    maxNewTokens: c.get<number>('maxNewTokens', 64),
    executionProvider: c.get<ExecutionProviderSetting>('executionProvider', 'auto'),
    threads: positive(c.get<number>('threads')),
    idleUnloadMinutes: c.get<number>('idleUnloadMinutes', 10),
  };
}
