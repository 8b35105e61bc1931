import { HubApiError } from '@huggingface/hub';
import { AbortError, HubError } from '../errors';
import { isFileSystemError, isUnreachable, networkErrorCode } from '../net/network-errors';
import { findCachedModel } from './find-cached';
import type { OnnxChoice } from './onnx-files';

/** What a failed request was about; every message names the repo, the revision and the file. */
export interface RequestContext {
  repoId: string;
  revision: string;
  endpoint: string;
  cacheDir: string;
  /** the repo file, when the request was for one */
  file?: string;
  /** whether an access token was sent (never the token itself) */
  tokenSent: boolean;
  /** the ONNX variant asked for, so that a cached copy of it counts */
  onnx?: OnnxChoice;
}

function what(ctx: RequestContext): string {
  return ctx.file ? `"${ctx.file}" of ${ctx.repoId} (revision ${ctx.revision})` : `${ctx.repoId} (revision ${ctx.revision})`;
}

/** Turns an HTTP status into a HubError that says what to do about it. */
export function httpStatusError(status: number, ctx: RequestContext, cause?: unknown): HubError {
  const repoUrl = `${ctx.endpoint}/${ctx.repoId}`;
  if (status === 401 || status === 403) {
    const auth = ctx.tokenSent
      ? 'the access token that was sent is not allowed to read it'
      : 'no access token was sent; set HF_TOKEN (or pass `token`)';
    return new HubError(
      'unauthorized',
      ctx.repoId,
      `unauthorised (HTTP ${status}) to download ${what(ctx)}: ${auth}, and if the model is gated accept its licence at ${repoUrl}. ` +
        'The Hub also answers this way for private or misspelled repos when no token is sent.',
      { cause },
    );
  }
  if (status === 404) {
    const message = ctx.file
      ? `file "${ctx.file}" not found in ${ctx.repoId} at revision ${ctx.revision} (${ctx.endpoint})`
      : `model repo ${ctx.repoId} or its revision "${ctx.revision}" not found at ${ctx.endpoint}`;
    return new HubError('not-found', ctx.repoId, message, { cause });
  }
  return new HubError('bad-response', ctx.repoId, `${ctx.endpoint} answered HTTP ${status} for ${what(ctx)}`, { cause });
}

/** "cannot reach" with a hint that depends on whether a usable copy is already cached. */
export function unreachableError(ctx: RequestContext, cause: unknown): HubError {
  const cached = findCachedModel(ctx.repoId, { ...ctx.onnx, revision: ctx.revision, cacheDir: ctx.cacheDir });
  // HF_HUB_OFFLINE only helps when there is something cached to use.
  const hint = cached
    ? `a cached copy exists at ${cached}: set HF_HUB_OFFLINE=1 to use it without asking the Hub`
    : `and no complete copy of ${ctx.repoId} (revision ${ctx.revision}) is cached in ${ctx.cacheDir}: connect once to download it, or copy a downloaded folder there`;
  return new HubError('unreachable', ctx.repoId, `cannot reach ${ctx.endpoint} (${networkErrorCode(cause) ?? 'network error'}); ${hint}`, { cause });
}

export function cancelledError(ctx: RequestContext): AbortError {
  return new AbortError(`download of ${what(ctx)} was cancelled; any partial file is kept and the next download resumes it`);
}

/**
 * Maps whatever an @huggingface/hub call or fetch threw to a typed error. Errors that are already
 * ours pass through unchanged.
 */
export function toHubError(err: unknown, ctx: RequestContext, signal?: AbortSignal): Error {
  if (err instanceof HubError || err instanceof AbortError) return err;
  if (signal?.aborted) return cancelledError(ctx);
  if (err instanceof HubApiError) return httpStatusError(err.statusCode, ctx, err);
  if (isUnreachable(err)) return unreachableError(ctx, err);
  // local file-system failures (disk full, permissions) are not the Hub's doing: keep them as they are
  if (isFileSystemError(err)) return err;
  // @huggingface/hub refuses tokens that do not start with "hf_" before sending anything
  if (err instanceof TypeError && /access token/i.test(err.message)) {
    return new HubError('unauthorized', ctx.repoId, `the Hugging Face access token is malformed: ${err.message}`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new HubError('bad-response', ctx.repoId, `downloading ${what(ctx)} from ${ctx.endpoint} failed: ${detail}`, { cause: err });
}
