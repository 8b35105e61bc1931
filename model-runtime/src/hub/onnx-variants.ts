import * as fs from 'node:fs';
import * as path from 'node:path';
import { HubError } from '../errors';
import { describeVariants, folderOnnxVariants, type OnnxVariantInfo } from '../onnx-export/variants';
import { readCachedCommit, snapshotFolder, validateRepoId } from './cache-layout';
import { chooseWeights } from './checkpoint-files';
import { toHubError, type RequestContext } from './hub-errors';
import { fetchRemoteSnapshot } from './remote';
import { resolveCacheDir, resolveEndpoint, resolveOffline, resolveToken } from './settings';

export type { OnnxVariantInfo } from '../onnx-export/variants';

export interface ListOnnxVariantsOptions {
  /** branch, tag or commit hash; default "main" */
  revision?: string;
  cacheDir?: string;
  endpoint?: string;
  token?: string;
  offline?: boolean;
  signal?: AbortSignal;
}

/** What the cached snapshot of the revision holds: all that can be said offline. */
function cachedVariants(repoId: string, revision: string, cacheDir: string): OnnxVariantInfo[] {
  const commit = readCachedCommit(cacheDir, repoId, revision);
  if (!commit) return [];
  const dir = snapshotFolder(cacheDir, repoId, commit);
  if (chooseWeights((f) => fs.existsSync(path.join(dir, f)))) return [];
  return folderOnnxVariants(dir);
}

/**
 * The complete variants of a Hub repo that holds only an ONNX export, with their download sizes
 * (graphs plus the external-data files named after them); [] for a repo with weights, whose
 * downloads never include ONNX files. Offline, or when the Hub cannot be reached, answers from the
 * cached snapshot; other failures are HubErrors as downloadModel throws them.
 */
export async function listOnnxVariants(repoId: string, options: ListOnnxVariantsOptions = {}): Promise<OnnxVariantInfo[]> {
  validateRepoId(repoId);
  const revision = options.revision ?? 'main';
  const cacheDir = resolveCacheDir(options.cacheDir);
  if (resolveOffline(options.offline)) return cachedVariants(repoId, revision, cacheDir);
  const endpoint = resolveEndpoint(options.endpoint);
  const token = resolveToken(options.token);
  const ctx: RequestContext = { repoId, revision, endpoint, cacheDir, tokenSent: token !== undefined };
  const { signal } = options;
  const boundFetch: typeof fetch = (input, init) => fetch(input, { ...init, ...(signal ? { signal } : {}) });
  let files: Map<string, { size: number }>;
  try {
    files = (await fetchRemoteSnapshot({ repoId, revision, endpoint, token, fetch: boundFetch })).files;
  } catch (err) {
    const error = toHubError(err, ctx, signal);
    if (error instanceof HubError && error.reason === 'unreachable') return cachedVariants(repoId, revision, cacheDir);
    throw error;
  }
  if (chooseWeights((f) => files.has(f))) return [];
  const dataOf = (graph: string) => [`${graph}_data`, `${graph}.data`].filter((f) => files.has(f));
  return describeVariants([...files.keys()], (f) => files.get(f)?.size ?? 0, dataOf);
}
