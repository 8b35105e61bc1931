/**
 * Find Element (RefExp) messages: host <-> inference worker and host <-> webview. Kept apart
 * from worker.ts and panel.ts, which include these in their unions and validation.
 */
import type { Box, ErrorInfo, ExecutionProviderSetting, PrecisionInfo, PrecisionSetting } from './common';

// ---- host <-> inference worker -------------------------------------------------------

export interface FindElementRequest {
  kind: 'findElement';
  id: number;
  /** A RefExp checkpoint folder (weights, with a tokenizer that spells "true" and "false"). */
  modelPath: string;
  imagePath: string;
  /** The referring expression, drawn as the header above each candidate. */
  phrase: string;
  /** Boxes to rank; without them the worker proposes candidates from the pixels. */
  candidates?: Box[];
  /** At most this many proposed candidates (default 48). */
  maxCandidates?: number;
  maxPatches?: number;
  threads?: number;
  executionProvider?: ExecutionProviderSetting;
  /** Where "Enable CUDA" installed provider libraries (SessionOptions.providerLibraryDir). */
  providerLibraryDir?: string;
  precision?: PrecisionSetting;
  graphCacheDir?: string;
}

export interface RankedBox {
  box: Box;
  /** Index into FindElementResult.candidates. */
  candidate: number;
  /** P("true") normalised over "true" and "false". */
  pTrue: number;
  trueLogprob: number;
  falseLogprob: number;
}

export interface FindElementResult {
  phrase: string;
  /** Every box scored, in the order given or proposed. */
  candidates: Box[];
  /** The candidates came from the element proposals, not from the caller. */
  proposed: boolean;
  /** Best first. Empty when the image has no candidate elements. */
  ranked: RankedBox[];
  trueTokenId: number;
  falseTokenId: number;
  imageSize: { width: number; height: number };
  timingsMs: { load: number; proposals: number; scoring: number };
  provider: string;
  precision: PrecisionInfo;
}

/** Streamed while candidates are scored: `scored` of `total` done. */
export interface FindProgress {
  kind: 'progress';
  id: number;
  scored: number;
  total: number;
}

// ---- host <-> webview ------------------------------------------------------------------

export type FindToWebview =
  | { type: 'findStarted'; runId: number; phrase: string; model: string }
  | { type: 'findProgress'; runId: number; scored: number; total: number }
  | { type: 'findFinished'; runId: number; ok: true; result: FindElementResult }
  | { type: 'findFinished'; runId: number; ok: false; error: ErrorInfo }
  /** The box a UI-structure node's text was grounded to, or why there is none. */
  | { type: 'grounded'; nodeId: string; ok: true; box: Box; pTrue: number }
  | { type: 'grounded'; nodeId: string; ok: false; reason: string };

export type FindFromWebview =
  | { type: 'find'; phrase: string }
  /** Ground a UI-structure node's text to a box on the current image. */
  | { type: 'ground'; nodeId: string; text: string };

const MAX_PHRASE = 500;
const MAX_NODE_ID = 200;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const phrase = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' && v.length <= MAX_PHRASE ? v.trim() : null);

/** Validates the Find Element messages from the webview; anything else gives null. */
export function parseFindFromWebview(raw: unknown): FindFromWebview | null {
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'find': {
      const p = phrase(raw.phrase);
      return p ? { type: 'find', phrase: p } : null;
    }
    case 'ground': {
      const text = phrase(raw.text);
      const nodeId = typeof raw.nodeId === 'string' && raw.nodeId !== '' && raw.nodeId.length <= MAX_NODE_ID ? raw.nodeId : null;
      return text && nodeId ? { type: 'ground', nodeId, text } : null;
    }
    default:
      return null;
  }
}
