/**
 * Typed messages between the extension host, the inference worker and the webview panel.
 * One discriminated union per direction; every request carries an id and gets exactly one
 * reply, `{ ok: false, error }` included, so no promise waits forever. No vscode imports:
 * the webview and the worker import this file too.
 */

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface ErrorInfo {
  message: string;
  /** The runtime's error code (IMAGE_INVALID, CHECKPOINT_INVALID, ABORTED, ...) when known. */
  code?: string;
}

export interface DescribeResult {
  tokenIds: number[];
  text: string | null;
  timingsMs: { load: number; preprocess: number; encoder: number; decoder: number };
  provider: string;
}

// ---- host <-> inference worker -------------------------------------------------------

export interface DescribeRequest {
  kind: 'describe';
  id: number;
  modelPath: string;
  imagePath: string;
  question?: string;
  maxPatches?: number;
  maxNewTokens?: number;
  threads?: number;
  executionProvider?: ExecutionProviderSetting;
  graphCacheDir?: string;
}

export type ToWorker = DescribeRequest | { kind: 'cancel'; id: number } | { kind: 'unload' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'token'; id: number; step: number; tokenId: number; text: string | null }
  | { kind: 'reply'; id: number; ok: true; result: DescribeResult }
  | { kind: 'reply'; id: number; ok: false; error: ErrorInfo };

// ---- host <-> webview ------------------------------------------------------------------

export type TaskId = 'describe' | 'ask';

export interface ShownImage {
  /** A webview URI the panel can load. */
  src: string;
  name: string;
}

export type ToWebview =
  | { type: 'image'; image: ShownImage }
  | { type: 'runStarted'; runId: number; task: TaskId; model: string; question?: string }
  | { type: 'token'; runId: number; text: string | null; tokenId: number }
  | { type: 'runFinished'; runId: number; ok: true; result: DescribeResult }
  | { type: 'runFinished'; runId: number; ok: false; error: ErrorInfo };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'run'; task: TaskId; question?: string }
  | { type: 'stop'; runId: number }
  | { type: 'copy'; text: string }
  | { type: 'insert'; text: string };

const MAX_TEXT = 10_000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;

/** Validates a message from the webview; anything malformed is dropped (returns null). */
export function parseFromWebview(raw: unknown): FromWebview | null {
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'run':
      if (raw.task !== 'describe' && raw.task !== 'ask') return null;
      if (raw.task === 'ask' && (!isText(raw.question) || raw.question.trim() === '')) return null;
      return raw.task === 'ask' ? { type: 'run', task: 'ask', question: (raw.question as string).trim() } : { type: 'run', task: 'describe' };
    case 'stop':
      return Number.isSafeInteger(raw.runId) ? { type: 'stop', runId: raw.runId as number } : null;
    case 'copy':
    case 'insert':
      return isText(raw.text) ? { type: raw.type, text: raw.text } : null;
    default:
      return null;
  }
}
