import * as fs from 'node:fs';
import { isUnreachable, networkErrorCode } from './network-errors';

/**
 * Streams a file of known size into a partial file, continuing what an earlier call (or another
 * program using the same file name) left there with an HTTP Range request, and retrying a dropped
 * connection from the bytes on disk. Shared by the Hugging Face Hub downloads and the CUDA provider
 * installer; each words its own errors through `errors`. Local file-system errors (disk full,
 * permissions) are thrown unchanged, for the caller to explain.
 */
export interface ResumableDownload {
  url: string;
  /** continued when it holds a prefix of the file; rewritten when the server ignores the Range */
  partialFile: string;
  /** bytes of the complete file, as the index that named it lists */
  size: number;
  /** sent with every request (Authorization, say) */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** bytes of the file now on disk, called as they arrive */
  onBytes?: (bytes: number) => void;
  errors: DownloadErrors;
}

/** How each caller reports what went wrong, in its own terms. */
export interface DownloadErrors {
  /** the host could not be reached at all; not retried */
  unreachable(cause: unknown, keptBytes: number): Error;
  /** an answer other than 200, 206 or 416 */
  httpStatus(status: number, statusText: string): Error;
  /** a 206 answer whose Content-Range does not start at the bytes asked for */
  badRange(offset: number, contentRange: string | null): Error;
  /** the server sent more than `size` bytes; the partial file has been deleted */
  oversize(): Error;
  /** every attempt broke off; `detail` describes the last break ("connection lost: ECONNRESET") */
  interrupted(attempts: number, detail: string, keptBytes: number, cause: unknown): Error;
  cancelled(keptBytes: number): Error;
}

/** A dropped connection after the request started: worth retrying from the bytes on disk. */
class Interrupted extends Error {}

/** Attempts per call; each one after the first resumes with a Range request. */
const MAX_ATTEMPTS = 3;

export async function downloadResumable(d: ResumableDownload): Promise<void> {
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const offset = usablePartialSize(d.partialFile, d.size);
    if (offset === d.size) return;
    try {
      await fetchFrom(offset, d);
      return;
    } catch (err) {
      if (d.signal?.aborted) throw d.errors.cancelled(sizeOnDisk(d.partialFile));
      if (!(err instanceof Interrupted)) throw err;
      last = err;
    }
  }
  throw d.errors.interrupted(MAX_ATTEMPTS, describe(last), sizeOnDisk(d.partialFile), last);
}

function sizeOnDisk(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Size of a partial file that can be continued; one longer than the file cannot be, so it goes. */
function usablePartialSize(file: string, expected: number): number {
  const size = sizeOnDisk(file);
  if (size <= expected) return size;
  fs.rmSync(file, { force: true });
  return 0;
}

async function fetchFrom(offset: number, d: ResumableDownload): Promise<void> {
  // identity: byte ranges and sizes must refer to the stored bytes, not a gzip encoding of them
  const headers: Record<string, string> = { ...d.headers, 'Accept-Encoding': 'identity' };
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  let res: Response;
  try {
    // Files often redirect to a CDN; fetch follows and, per the fetch spec, drops Authorization
    // when the redirect leaves the origin (as Python's huggingface_hub does).
    res = await fetch(d.url, { headers, redirect: 'follow', ...(d.signal ? { signal: d.signal } : {}) });
  } catch (err) {
    if (d.signal?.aborted) throw err;
    if (isUnreachable(err)) throw d.errors.unreachable(err, offset);
    throw new Interrupted('request failed', { cause: err });
  }
  const start = await startOf(res, offset, d);
  await appendBody(res, start, d);
}

/** Where the response body starts in the file, after checking the server honoured the Range. */
async function startOf(res: Response, offset: number, d: ResumableDownload): Promise<number> {
  if (res.status === 200) return 0; // no Range sent, or the server ignored it: rewrite from the start
  const contentRange = res.headers.get('content-range');
  if (res.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(contentRange ?? '');
    if (range && Number(range[1]) === offset) return offset;
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status === 206) throw d.errors.badRange(offset, contentRange);
  if (res.status === 416) {
    // the partial file does not fit what the server holds now: start over
    fs.rmSync(d.partialFile, { force: true });
    throw new Interrupted('range not satisfiable');
  }
  throw d.errors.httpStatus(res.status, res.statusText);
}

async function appendBody(res: Response, start: number, d: ResumableDownload): Promise<void> {
  if (!res.body) throw new Interrupted('empty response');
  const reader = res.body.getReader();
  const stopReading = () => reader.cancel().catch(() => undefined);
  const file = await fs.promises.open(d.partialFile, start === 0 ? 'w' : 'a').catch(async (err: unknown) => {
    await stopReading();
    throw err;
  });
  let bytes = start;
  d.onBytes?.(bytes);
  try {
    for (let chunk = await readChunk(reader, d.signal); chunk; chunk = await readChunk(reader, d.signal)) {
      if (bytes + chunk.byteLength > d.size) {
        await stopReading();
        await file.close();
        fs.rmSync(d.partialFile, { force: true });
        throw d.errors.oversize();
      }
      await file.write(chunk).catch(async (err: unknown) => {
        await stopReading();
        throw err;
      });
      bytes += chunk.byteLength;
      d.onBytes?.(bytes);
    }
  } finally {
    await file.close().catch(() => undefined); // already closed on the oversize path
  }
  // a body that ends early without an error (no Content-Length) is an interruption too
  if (bytes < d.size) throw new Interrupted(`stream ended at ${bytes} bytes`);
}

/** The next chunk of the body, or null at its end; a broken connection is worth a retry. */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
  try {
    const { done, value } = await reader.read();
    return done ? null : value;
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new Interrupted('connection lost', { cause: err });
  }
}

/** "connection lost: ECONNRESET" from an Interrupted and the network error inside it. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = networkErrorCode(err);
  return code ? `${message}: ${code}` : message;
}
