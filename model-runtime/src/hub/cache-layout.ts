import { getRepoFolderName } from '@huggingface/hub';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HubError } from '../errors';

/**
 * Paths of the standard Hugging Face cache, shared with Python's huggingface_hub:
 *   <cache>/models--<org>--<name>/blobs/<etag>
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<file>  -> ../../blobs/<etag>
 *   <cache>/models--<org>--<name>/refs/<revision>            (holds the commit hash)
 */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

const REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

/** Rejects ids that could escape the cache folder or that the Hub would never accept. */
export function validateRepoId(repoId: string): void {
  if (!REPO_ID.test(repoId) || repoId.split('/').some((part) => part === '.' || part === '..' || part.includes('--'))) {
    throw new HubError('not-found', repoId, `"${repoId}" is not a valid Hugging Face model id (expected "org/name")`);
  }
}

/**
 * File paths come from the remote listing and from index files inside the repo, so they are
 * untrusted: a path that is absolute or climbs with ".." would write outside the snapshot.
 */
export function validateRepoPath(repoId: string, file: string): void {
  const parts = file.split('/');
  if (file === '' || file.startsWith('/') || file.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new HubError('bad-response', repoId, `refusing the repo file path ${JSON.stringify(file)}: it would leave the cache folder`);
  }
}

/** Branch and tag names are joined onto refs/, so they must not climb out of it either. */
export function isSafeRevision(revision: string): boolean {
  const parts = revision.split('/');
  return revision !== '' && !revision.includes('\\') && !parts.some((p) => p === '' || p === '.' || p === '..');
}

export function repoFolder(cacheDir: string, repoId: string): string {
  return path.join(cacheDir, getRepoFolderName({ type: 'model', name: repoId }));
}

export function snapshotFolder(cacheDir: string, repoId: string, commit: string): string {
  return path.join(repoFolder(cacheDir, repoId), 'snapshots', commit);
}

export function blobPath(cacheDir: string, repoId: string, etag: string): string {
  return path.join(repoFolder(cacheDir, repoId), 'blobs', etag);
}

/** The commit a revision points to in the cache: the hash itself, or the content of refs/<revision>. */
export function readCachedCommit(cacheDir: string, repoId: string, revision: string): string | null {
  if (COMMIT_HASH.test(revision)) return revision;
  if (!isSafeRevision(revision)) return null;
  try {
    const commit = fs.readFileSync(path.join(repoFolder(cacheDir, repoId), 'refs', revision), 'utf8').trim();
    return COMMIT_HASH.test(commit) ? commit : null;
  } catch {
    return null;
  }
}

/** Records which commit a branch or tag resolved to, without a trailing newline as Python writes it. */
export function writeRef(cacheDir: string, repoId: string, revision: string, commit: string): void {
  if (revision === commit) return; // Python never writes refs for a commit hash either
  if (!isSafeRevision(revision)) throw new HubError('not-found', repoId, `"${revision}" is not a valid revision name`);
  const file = path.join(repoFolder(cacheDir, repoId), 'refs', revision);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, commit);
  fs.renameSync(tmp, file); // readers never see a half-written hash
}

/**
 * Points snapshots/<commit>/<file> at its blob with a relative symlink, so the cache keeps working
 * when the folder is moved. Where symlinks are not allowed (Windows without developer mode) the
 * blob is copied instead, which Python's huggingface_hub also does.
 */
export function linkSnapshotFile(pointer: string, blob: string): void {
  fs.mkdirSync(path.dirname(pointer), { recursive: true });
  fs.rmSync(pointer, { force: true }); // a dangling link from an earlier, interrupted run
  try {
    fs.symlinkSync(path.relative(path.dirname(pointer), blob), pointer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    fs.copyFileSync(blob, pointer);
  }
}
