import { HubError } from '../errors';
import { downloadResumable, type DownloadErrors } from '../net/resumable-download';
import { cancelledError, httpStatusError, unreachableError, type RequestContext } from './hub-errors';
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

export async function transferToIncomplete(p: TransferParams): Promise<void> {
  await downloadResumable({
    url: p.url,
    partialFile: p.incompletePath,
    size: p.remote.size,
    ...(p.token ? { headers: { Authorization: `Bearer ${p.token}` } } : {}),
    ...(p.signal ? { signal: p.signal } : {}),
    ...(p.onBytes ? { onBytes: p.onBytes } : {}),
    errors: hubDownloadErrors(p),
  });
}

/** The download's failures as HubErrors naming the repo file. */
function hubDownloadErrors(p: TransferParams): DownloadErrors {
  const { ctx, remote } = p;
  return {
    unreachable: (cause) => unreachableError(ctx, cause),
    httpStatus: (status) => httpStatusError(status, ctx),
    badRange: (offset, contentRange) => new HubError('bad-response', ctx.repoId, `"${remote.path}": asked for bytes from ${offset}, got Content-Range "${contentRange}"`),
    oversize: () =>
      new HubError('integrity', ctx.repoId, `"${remote.path}" of ${ctx.repoId}: the server sent more than the ${remote.size} bytes the Hub lists; the download was deleted, try again`),
    interrupted: (attempts, detail, kept, cause) =>
      new HubError(
        'interrupted',
        ctx.repoId,
        `download of "${remote.path}" of ${ctx.repoId} was interrupted ${attempts} times (${detail}); ` +
          `${kept} of ${remote.size} bytes are kept in ${p.incompletePath} and the next download resumes from there`,
        { cause },
      ),
    cancelled: () => cancelledError(ctx),
  };
}
