import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { HubError } from '../errors';
import type { RemoteFile } from './remote';

/**
 * The hash a file's etag promises, computed over the downloaded bytes: sha256 for LFS files, and
 * git's blob sha1 ("blob <size>\0" + content) for regular files, which is what the Hub's tree oid
 * and ETag are. @huggingface/hub verifies neither when downloading, so it is done here.
 */
export async function contentHash(file: string, lfs: boolean, size: number): Promise<string> {
  const hash = crypto.createHash(lfs ? 'sha256' : 'sha1');
  if (!lfs) hash.update(`blob ${size}\0`);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Only hashes we know how to recompute are checked; anything else (a custom endpoint's etag) is trusted. */
function checkable(remote: RemoteFile): boolean {
  return remote.lfs ? /^[0-9a-f]{64}$/.test(remote.etag) : /^[0-9a-f]{40}$/.test(remote.etag);
}

/**
 * Checks size and hash of a finished download; on a mismatch the file is deleted, since resuming a
 * corrupt prefix could never succeed, and a HubError('integrity') says so.
 */
export async function verifyDownload(file: string, remote: RemoteFile, repoId: string, commit: string): Promise<void> {
  const fail = (detail: string) => {
    fs.rmSync(file, { force: true });
    return new HubError(
      'integrity',
      repoId,
      `"${remote.path}" of ${repoId} (commit ${commit}) failed its integrity check: ${detail}; the corrupt download was deleted, try again`,
    );
  };
  const size = fs.statSync(file).size;
  if (size !== remote.size) throw fail(`got ${size} bytes, expected ${remote.size}`);
  if (!checkable(remote)) return;
  const actual = await contentHash(file, remote.lfs, size);
  if (actual !== remote.etag) throw fail(`${remote.lfs ? 'sha256' : 'git sha1'} is ${actual}, expected ${remote.etag}`);
}
