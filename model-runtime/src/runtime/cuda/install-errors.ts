import * as path from 'node:path';
import { AbortError, ProviderInstallError } from '../../errors';

/** Whole MiB, or two decimals below one MiB, for messages. */
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0);

/** A failed write under the install root: a full disk says how to go on, anything else names the folder. */
export function fileSystemError(err: unknown, dir: string, what: string, bytes: number): ProviderInstallError {
  const code = (err as { code?: string }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ProviderInstallError(
      'disk-full',
      `not enough disk space in ${dir} for ${what} (${mib(bytes)} MiB); free some space and run Enable CUDA again: the download resumes where it stopped`,
      { cause: err },
    );
  }
  return new ProviderInstallError('filesystem', `cannot write ${what} in ${dir}: ${(err as Error).message}`, { cause: err });
}

/** The downloaded .nupkg is not a zip holding what it should; the installer deletes it before this reaches the user. */
export function badPackage(file: string, why: string, cause?: unknown): ProviderInstallError {
  return new ProviderInstallError('bad-package', `${path.basename(file)} is not a usable NuGet package (${why}); it was deleted, run Enable CUDA again`, cause === undefined ? undefined : { cause });
}

/** Cancellation is not a failure: an AbortError, saying at what point (`when`) and what is kept. */
export function cancelled(when: string): AbortError {
  return new AbortError(`installing the CUDA provider was cancelled ${when}`);
}
