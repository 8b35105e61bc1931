/**
 * Typed messages between the extension host and the webview panel. One discriminated union per
 * direction; every panel request that carries a requestId gets exactly one reply, `{ ok: false,
 * error }` included. What the webview sends is validated here (parseFromWebview) before the host
 * acts on it.
 */
import type { Box, ErrorInfo } from './common';
import { TASK_IDS, type DescribeResult, type TaskId } from './describe-result';
import { parseFindFromWebview, type FindFromWebview, type FindToWebview } from './find-element';

export interface ShownImage {
  /** A webview URI the panel can load. */
  src: string;
  name: string;
  /** The host's handle for this image: the panel names it when it asks for a crop, alt text or re-opens it. */
  key?: string;
}

/** The checkpoint a task uses and whether it is on this machine (see src/checkpoint-status.ts). */
export interface TaskModelInfo {
  task: TaskId;
  /** The setting as written: a Hub id or a folder. */
  model: string;
  /** Short name to show: the Hub id or the folder's last part. */
  name: string;
  state: 'folder' | 'missing-folder' | 'downloaded' | 'not-downloaded';
  available: boolean;
}

export type ToWebview =
  | { type: 'image'; image: ShownImage }
  /** Asks the user to draw a box on the image for `task`. */
  | { type: 'drawBox'; task: TaskId }
  /** `continues`: the run whose text this one extends in place (Continue after the budget ran out). */
  | { type: 'runStarted'; runId: number; task: TaskId; model: string; question?: string; continues?: number }
  | { type: 'token'; runId: number; text: string | null; tokenId: number }
  | { type: 'runFinished'; runId: number; ok: true; result: DescribeResult }
  | { type: 'runFinished'; runId: number; ok: false; error: ErrorInfo }
  /** Which checkpoint each task uses and whether it is downloaded; sent again when settings change. */
  | { type: 'taskModels'; models: TaskModelInfo[] }
  /** Asks the user to draw the rectangle to crop the current image to (after a capture). */
  | { type: 'startCrop' }
  /** The one reply to a panel request that carries a requestId (crop, insertAltText, continue). */
  | { type: 'reply'; requestId: number; ok: true; message?: string }
  | { type: 'reply'; requestId: number; ok: false; error: ErrorInfo }
  | FindToWebview;

export type FromWebview =
  | { type: 'ready' }
  | { type: 'run'; task: TaskId; question?: string; box?: Box }
  | { type: 'stop'; runId: number }
  | { type: 'copy'; text: string }
  | { type: 'insert'; text: string }
  /** Crop the image `imageKey` to `box` (image pixels); the crop becomes the current image. */
  | { type: 'crop'; requestId: number; imageKey: string; box: Box }
  /** Put `text` as the alt text of the image `imageKey` in the last active editor. */
  | { type: 'insertAltText'; requestId: number; imageKey: string; text: string }
  /** The user re-opened a history entry: its image becomes the one Run acts on. */
  | { type: 'selectImage'; imageKey: string }
  /** Generate another budget's worth after run `runId`, which its budget stopped. */
  | { type: 'continue'; requestId: number; runId: number }
  | FindFromWebview;

const MAX_TEXT = 10_000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isImageKey = (v: unknown): v is string => typeof v === 'string' && /^[\w-]{1,64}$/.test(v);
const isRequestId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The requestId of a panel request that failed validation, so the host can still send its one
 * `{ ok: false }` reply; undefined when the message is not such a request or has no usable id.
 */
export function rejectedRequestId(raw: unknown): number | undefined {
  if (!isObject(raw) || (raw.type !== 'crop' && raw.type !== 'insertAltText' && raw.type !== 'continue')) return undefined;
  return isRequestId(raw.requestId) ? raw.requestId : undefined;
}

function parseBox(raw: unknown): Box | null {
  if (!isObject(raw)) return null;
  const values = [raw.x0, raw.y0, raw.x1, raw.y1];
  if (!values.every((v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 65_536)) return null;
  const [x0, y0, x1, y1] = values as number[];
  return x1! > x0! && y1! > y0! ? { x0: x0!, y0: y0!, x1: x1!, y1: y1! } : null;
}

/** Validates a message from the webview; anything malformed is dropped (returns null). */
export function parseFromWebview(raw: unknown): FromWebview | null {
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'run': {
      const task = raw.task as TaskId;
      if (!TASK_IDS.includes(task)) return null;
      if (task === 'ask') {
        if (!isText(raw.question) || raw.question.trim() === '') return null;
        return { type: 'run', task, question: raw.question.trim() };
      }
      if (task === 'widget') {
        const box = parseBox(raw.box);
        return box ? { type: 'run', task, box } : null;
      }
      return { type: 'run', task };
    }
    case 'stop':
      return Number.isSafeInteger(raw.runId) ? { type: 'stop', runId: raw.runId as number } : null;
    case 'copy':
    case 'insert':
      return isText(raw.text) ? { type: raw.type, text: raw.text } : null;
    case 'crop': {
      const box = parseBox(raw.box);
      return box && isRequestId(raw.requestId) && isImageKey(raw.imageKey) ? { type: 'crop', requestId: raw.requestId, imageKey: raw.imageKey, box } : null;
    }
    case 'insertAltText':
      return isRequestId(raw.requestId) && isImageKey(raw.imageKey) && isText(raw.text) && raw.text.trim() !== ''
        ? { type: 'insertAltText', requestId: raw.requestId, imageKey: raw.imageKey, text: raw.text }
        : null;
    case 'selectImage':
      return isImageKey(raw.imageKey) ? { type: 'selectImage', imageKey: raw.imageKey } : null;
    case 'continue':
      return isRequestId(raw.requestId) && isRequestId(raw.runId) ? { type: 'continue', requestId: raw.requestId, runId: raw.runId } : null;
    default:
      return parseFindFromWebview(raw);
  }
}
