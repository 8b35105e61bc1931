/**
 * Find Element (RefExp) messages: host <-> inference worker and host <-> webview. Kept apart
 * from protocol.ts, which includes these in its unions and validation. No vscode imports.
 */
import type { Box, ErrorInfo, ExecutionProviderSetting } from './protocol';

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
  | { type: 'grounded'; nodeId: string; ok: false; reason: string }
  /** Does what hovering the node does (keyboard and automation use it); null leaves the tree. */
  | { type: 'hoverNode'; nodeId: string | null };

export type HighlightSource = 'find' | 'tree';

export type FindFromWebview =
  | { type: 'find'; phrase: string }
  /** Ground a UI-structure node's text to a box on the current image. */
  | { type: 'ground'; nodeId: string; text: string }
  /**
   * What the panel highlights now (null: nothing), so the host can tell and tests can see;
   * `note`: the hovered node's tooltip when it has no box (why not).
   */
  | { type: 'highlighted'; box: Box | null; source: HighlightSource; nodeId?: string; note?: string };

const MAX_PHRASE = 500;
const MAX_NODE_ID = 200;
const MAX_NOTE = 2_000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A box in image pixels, x1/y1 exclusive, non-empty; null when malformed. */
export function parseBox(raw: unknown): Box | null {
  if (!isObject(raw)) return null;
  const values = [raw.x0, raw.y0, raw.x1, raw.y1];
  if (!values.every((v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 65_536)) return null;
  const [x0, y0, x1, y1] = values as [number, number, number, number];
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : null;
}

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
    case 'highlighted': {
      if (raw.source !== 'find' && raw.source !== 'tree') return null;
      const box = raw.box === null ? null : parseBox(raw.box);
      if (raw.box !== null && !box) return null;
      if (raw.nodeId !== undefined && (typeof raw.nodeId !== 'string' || raw.nodeId.length > MAX_NODE_ID)) return null;
      if (raw.note !== undefined && (typeof raw.note !== 'string' || raw.note.length > MAX_NOTE)) return null;
      return {
        type: 'highlighted',
        box,
        source: raw.source,
        ...(typeof raw.nodeId === 'string' ? { nodeId: raw.nodeId } : {}),
        ...(typeof raw.note === 'string' ? { note: raw.note } : {}),
      };
    }
    default:
      return null;
  }
}
