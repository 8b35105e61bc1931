import * as fs from 'node:fs';
import { HubError } from '../errors';
import { cancelledError, httpStatusError, isUnreachable, networkErrorCode, unreachableError, type RequestContext } from './hub-errors';
import type { RemoteFile } from './remote';

/**
 * Streams one file into `blobs/<etag>.incomplete`, continuing an earlier partial file with an HTTP
 * Range request, the way Python's huggingface_hub does (same file name, so either side resumes the
 * other's partial download).
 *
 * Written by hand because @huggingface/hub's downloaders cannot do this: downloadFileToCacheDir
 * always starts from zero, takes no AbortSignal and reports no progress, and its WebBlob accepts a
 * 200 answer to a Range request (which would append the whole file to the partial one) and turns
 * HTTP errors inside stream() into bare strings.
 */
export interface TransferParams {
  url: string;
  token: string | undefined;
  incompletePath: string;
  remote: RemoteFile;
  ctx: RequestContext;
  signal?: AbortSignal;
  /** bytes of the file now on disk, called as they arrive */
  onBytes?: (bytes: number) => void;
}

/** A dropped connection after the request started: worth retrying from the bytes on disk. */
class Interrupted extends Error {}

/** Attempts per call; each one after the first resumes with a Range request. */
const MAX_ATTEMPTS = 3;

export async function transferToIncomplete(p: TransferParams): Promise<void> {
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const offset = usablePartialSize(p.incompletePath, p.remote.size);
    if (offset === p.remote.size) return;
    try {
      await fetchFrom(offset, p);
      return;
    } catch (err) {
      if (p.signal?.aborted) throw cancelledError(p.ctx);
      if (!(err instanceof Interrupted)) throw err;
      last = err;
    }
  }
  const kept = usablePartialSize(p.incompletePath, p.remote.size);
  throw new HubError(
    'interrupted',
    p.ctx.repoId,
    `download of "${p.remote.path}" of ${p.ctx.repoId} was interrupted ${MAX_ATTEMPTS} times (${describe(last)}); ` +
      `${kept} of ${p.remote.size} bytes are kept in ${p.incompletePath} and the next download resumes from there`,
    { cause: last },
  );
}

/** Size of a partial file that can be continued; one longer than the file cannot be, so it goes. */
function usablePartialSize(file: string, expected: number): number {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return 0;
  }
  if (size <= expected) return size;
  fs.rmSync(file, { force: true });
  return 0;
}

async function fetchFrom(offset: number, p: TransferParams): Promise<void> {
  // identity: byte ranges and sizes must refer to the stored bytes, not a gzip encoding of them
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
  if (p.token) headers.Authorization = `Bearer ${p.token}`;
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  let res: Response;
  try {
    // LFS files redirect to a CDN; fetch follows and, per the fetch spec, drops Authorization
    // when the redirect leaves the Hub's origin (as Python's client does).
    res = await fetch(p.url, { headers, redirect: 'follow', ...(p.signal ? { signal: p.signal } : {}) });
  } catch (err) {
    if (p.signal?.aborted) throw err;
    if (isUnreachable(err)) throw unreachableError(p.ctx, err);
    throw new Interrupted('request failed', { cause: err });
  }
  const start = await startOf(res, offset, p);
  await appendBody(res, start, p);
}

/** Where the response body starts in the file, after checking the server honoured the Range. */
async function startOf(res: Response, offset: number, p: TransferParams): Promise<number> {
  if (res.status === 200) return 0; // no Range sent, or the server ignored it: rewrite from the start
  if (res.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (range && Number(range[1]) === offset) return offset;
    await res.body?.cancel();
    throw new HubError('bad-response', p.ctx.repoId, `"${p.remote.path}": asked for bytes from ${offset}, got Content-Range "${res.headers.get('content-range')}"`);
  }
  await res.body?.cancel();
  if (res.status === 416) {
    // the partial file does not fit what the server holds now: start over
    fs.rmSync(p.incompletePath, { force: true });
    throw new Interrupted('range not satisfiable');
  }
  throw httpStatusError(res.status, p.ctx);
}

async function appendBody(res: Response, start: number, p: TransferParams): Promise<void> {
  const file = await fs.promises.open(p.incompletePath, start === 0 ? 'w' : 'a');
  let bytes = start;
  p.onBytes?.(bytes);
  try {
    if (!res.body) throw new Interrupted('empty response');
    const reader = res.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      if (bytes + chunk.value.byteLength > p.remote.size) {
        await reader.cancel().catch(() => undefined);
        throw new HubError('integrity', p.ctx.repoId, `"${p.remote.path}" of ${p.ctx.repoId}: the server sent more than the ${p.remote.size} bytes the Hub lists; the download was deleted, try again`);
      }
      await file.write(chunk.value);
      bytes += chunk.value.byteLength;
      p.onBytes?.(bytes);
    }
  } catch (err) {
    if (err instanceof HubError) {
      await file.close();
      fs.rmSync(p.incompletePath, { force: true });
      throw err;
    }
    if (p.signal?.aborted || err instanceof Interrupted) throw err;
    throw new Interrupted('connection lost', { cause: err });
  } finally {
    await file.close().catch(() => undefined); // already closed on the integrity path
  }
  // a body that ends early without an error (no Content-Length) is an interruption too
  if (bytes < p.remote.size) throw new Interrupted(`stream ended at ${bytes} bytes`);
}

/** "connection lost: ECONNRESET" from an Interrupted and the network error inside it. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = networkErrorCode(err);
  return code ? `${message}: ${code}` : message;
}
