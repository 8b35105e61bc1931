/**
 * The .nupkg on disk: downloaded into `<root>/downloads/<id>.<version>.nupkg.partial` with HTTP
 * Range resume, then checked against the SHA512 NuGet's catalog records. A `.json` beside the
 * partial file names the package it belongs to, so a partial file of another package (or of a
 * re-published one) is never continued.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AbortError, ProviderInstallError } from '../../errors';
import { isFileSystemError } from '../../net/network-errors';
import { downloadResumable, type DownloadErrors } from '../../net/resumable-download';
import { cancelled, fileSystemError } from './install-errors';
import { httpStatusError, unreachableError } from './nuget-http';
import type { ResolvedCudaPackage } from './nuget-package';

interface DownloadPaths {
  partial: string;
  meta: string;
}

function downloadPaths(root: string, pkg: ResolvedCudaPackage): DownloadPaths {
  const name = `${pkg.id.toLowerCase()}.${pkg.version.toLowerCase()}.nupkg.partial`;
  const partial = path.join(root, 'downloads', name);
  return { partial, meta: `${partial}.json` };
}

/** Downloads (or finishes downloading) the package; returns the file, complete but not yet verified. */
export async function downloadPackage(pkg: ResolvedCudaPackage, root: string, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): Promise<string> {
  const paths = downloadPaths(root, pkg);
  const folder = path.dirname(paths.partial);
  try {
    fs.mkdirSync(folder, { recursive: true });
    keepPartialOnlyFor(pkg, paths);
    await downloadResumable({ url: pkg.url, partialFile: paths.partial, size: pkg.size, ...(signal ? { signal } : {}), onBytes, errors: downloadErrors(pkg, paths.partial) });
  } catch (err) {
    if (isFileSystemError(err)) throw fileSystemError(err, folder, 'the CUDA provider package', pkg.size);
    throw err;
  }
  return paths.partial;
}

/** Keeps the partial file only when it belongs to this very package (same URL, size and hash). */
function keepPartialOnlyFor(pkg: ResolvedCudaPackage, paths: DownloadPaths): void {
  let meta: Partial<ResolvedCudaPackage> | null;
  try {
    meta = JSON.parse(fs.readFileSync(paths.meta, 'utf8')) as Partial<ResolvedCudaPackage>;
  } catch {
    meta = null;
  }
  if (meta && meta.sha512 === pkg.sha512 && meta.size === pkg.size && meta.url === pkg.url) return;
  fs.rmSync(paths.partial, { force: true });
  fs.writeFileSync(paths.meta, JSON.stringify({ url: pkg.url, size: pkg.size, sha512: pkg.sha512 }));
}

function downloadErrors(pkg: ResolvedCudaPackage, partial: string): DownloadErrors {
  const what = `downloading ${pkg.id} ${pkg.version}`;
  return {
    unreachable: (cause, kept) => unreachableError(pkg.url, what, cause, kept),
    httpStatus: (status, statusText) => httpStatusError(pkg.url, what, status, statusText),
    badRange: (offset, contentRange) => new ProviderInstallError('bad-response', `${pkg.url}: asked for bytes from ${offset}, got Content-Range "${contentRange}"`),
    oversize: () => new ProviderInstallError('integrity', `${pkg.url} sent more than the ${pkg.size} bytes NuGet lists for ${pkg.id} ${pkg.version}; the download was deleted, run Enable CUDA again`),
    interrupted: (attempts, detail, kept, cause) =>
      new ProviderInstallError(
        'interrupted',
        `${what} was interrupted ${attempts} times (${detail}); ${kept} of ${pkg.size} bytes are kept in ${partial} and running Enable CUDA again resumes from there`,
        { cause },
      ),
    cancelled: (kept) => new AbortError(`downloading the CUDA provider was cancelled; ${kept} of ${pkg.size} bytes are kept in ${partial} and Enable CUDA resumes from there`),
  };
}

/** Checks the downloaded package against NuGet's SHA512; a mismatch deletes it, since resuming a corrupt prefix never succeeds. */
export async function verifyPackage(file: string, pkg: ResolvedCudaPackage, root: string, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): Promise<void> {
  const got = await sha512Base64(file, signal, onBytes);
  if (got === pkg.sha512) return;
  discardDownload(root, pkg);
  throw new ProviderInstallError(
    'integrity',
    `the downloaded ${pkg.id} ${pkg.version} does not match the SHA512 NuGet records for it (expected ${pkg.sha512}, got ${got}); it was deleted and nothing was installed — run Enable CUDA again to download it afresh`,
  );
}

async function sha512Base64(file: string, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): Promise<string> {
  const hash = crypto.createHash('sha512');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) throw cancelled('while verifying the download');
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes(bytes);
  }
  return hash.digest('base64');
}

/** Removes the package and its note: after a successful install, or when it proved unusable. */
export function discardDownload(root: string, pkg: ResolvedCudaPackage): void {
  const paths = downloadPaths(root, pkg);
  fs.rmSync(paths.partial, { force: true });
  fs.rmSync(paths.meta, { force: true });
}
