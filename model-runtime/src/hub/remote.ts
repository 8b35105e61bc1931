import { listFiles, modelInfo } from '@huggingface/hub';
import { HubError } from '../errors';
import { COMMIT_HASH } from './cache-layout';

/** One file of a repo at a commit, as the Hub's tree API describes it. */
export interface RemoteFile {
  path: string;
  size: number;
  /**
   * The name of its blob in the cache, the same value Python takes from X-Linked-Etag / ETag:
   * the sha256 of the content for LFS (and Xet-backed) files, the git blob sha1 otherwise.
   */
  etag: string;
  lfs: boolean;
}

export interface RemoteSnapshot {
  commit: string;
  files: Map<string, RemoteFile>;
}

export interface RemoteParams {
  repoId: string;
  revision: string;
  endpoint: string;
  token: string | undefined;
  /** fetch bound to the caller's AbortSignal */
  fetch: typeof fetch;
}

/**
 * Resolves a revision to its commit and lists the files there with their sizes and hashes, the
 * same two calls @huggingface/hub's snapshotDownload makes (/api/models/<repo>/revision/<rev>,
 * then /api/models/<repo>/tree/<commit>). Knowing every etag before downloading lets a second
 * call find everything in the cache without requesting a single file.
 */
export async function fetchRemoteSnapshot(p: RemoteParams): Promise<RemoteSnapshot> {
  const common = { hubUrl: p.endpoint, fetch: p.fetch, ...(p.token ? { accessToken: p.token } : {}) };
  const info = await modelInfo({ ...common, name: p.repoId, revision: p.revision, additionalFields: ['sha'] });
  const commit = info.sha;
  if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) {
    throw new HubError('bad-response', p.repoId, `${p.endpoint} returned no commit hash for ${p.repoId} (revision ${p.revision})`);
  }
  const files = new Map<string, RemoteFile>();
  for await (const entry of listFiles({ ...common, repo: { type: 'model', name: p.repoId }, revision: commit, recursive: true })) {
    if (entry.type !== 'file') continue;
    const etag = entry.lfs?.oid ?? entry.oid;
    if (!etag) throw new HubError('bad-response', p.repoId, `${p.endpoint} listed "${entry.path}" without a hash`);
    files.set(entry.path, { path: entry.path, size: entry.lfs?.size ?? entry.size, etag, lfs: entry.lfs !== undefined });
  }
  return { commit, files };
}

/** The resolve URL of a file at a commit, path segments escaped as the Hub expects. */
export function resolveUrl(endpoint: string, repoId: string, commit: string, file: string): string {
  return `${endpoint}/${repoId}/resolve/${commit}/${file.split('/').map(encodeURIComponent).join('/')}`;
}
