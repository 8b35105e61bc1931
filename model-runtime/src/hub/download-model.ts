import * as fs from 'node:fs';
import * as path from 'node:path';
import { HubError } from '../errors';
import { blobPath, COMMIT_HASH, linkSnapshotFile, snapshotFolder, validateRepoId, validateRepoPath, writeRef } from './cache-layout';
import { hasOnnxGraphs } from '../onnx-export/export-files';
import { chooseWeights, OPTIONAL_FILES, parseShardNames, WEIGHT_FORMATS } from './checkpoint-files';
import { cancelledError, httpStatusError, toHubError, type RequestContext } from './hub-errors';
import { resolveFromCache } from './offline';
import { fetchRemoteSnapshot, resolveUrl, type RemoteFile, type RemoteSnapshot } from './remote';
import { transferToIncomplete } from './resumable-transfer';
import { verifyDownload } from './integrity';
import { graphExternalData, planOnnxDownload, type OnnxChoice } from './onnx-files';
import { resolveCacheDir, resolveEndpoint, resolveOffline, resolveToken } from './settings';

export interface DownloadProgress {
  /** path of the file inside the repo */
  file: string;
  /** bytes of it on disk so far (a resumed download starts at the kept size) */
  bytes: number;
  total: number;
}

/**
 * onnxVariant / onnxDecoder: for a repo that holds only an ONNX export (no weights), which graphs
 * to fetch (default: the float32 'default' variant, merged decoder preferred); repos with weights
 * ignore them and fetch no ONNX file.
 */
export interface DownloadModelOptions extends OnnxChoice {
  /** branch, tag or commit hash; default "main" */
  revision?: string;
  /** default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub */
  cacheDir?: string;
  /** default: HF_ENDPOINT, else https://huggingface.co */
  endpoint?: string;
  /** default: HF_TOKEN, else the saved login in $HF_HOME/token */
  token?: string;
  /** never touch the network, answer from the cache (default: HF_HUB_OFFLINE) */
  offline?: boolean;
  /** repo files to fetch; default: the files a Pix2Struct checkpoint (or the chosen ONNX variant) needs that the repo has */
  files?: string[];
  onProgress?: (progress: DownloadProgress) => void;
  /** cancels the download; partial files are kept and the next call resumes them */
  signal?: AbortSignal;
}

/**
 * Downloads a model from the Hugging Face Hub into the standard cache shared with Python's
 * huggingface_hub and returns its snapshot folder (snapshots/<commit>), ready for loadCheckpoint.
 * Files already cached (by either) are not requested again.
 *
 * The Hub API calls and cache paths come from @huggingface/hub; its downloadFileToCacheDir is not
 * used: given a branch it files each file under the snapshot of the last commit that touched that
 * file (so one revision scatters over several snapshot folders), never writes refs/<revision>, and
 * cannot resume, report progress, verify hashes or be cancelled (see resumable-transfer.ts).
 */
export async function downloadModel(repoId: string, options: DownloadModelOptions = {}): Promise<string> {
  validateRepoId(repoId);
  options.files?.forEach((file) => validateRepoPath(repoId, file));
  const revision = options.revision ?? 'main';
  const cacheDir = resolveCacheDir(options.cacheDir);
  const onnx: OnnxChoice = { onnxVariant: options.onnxVariant, onnxDecoder: options.onnxDecoder };
  if (resolveOffline(options.offline)) return resolveFromCache(repoId, revision, cacheDir, options.files, onnx);

  const endpoint = resolveEndpoint(options.endpoint);
  const token = resolveToken(options.token);
  const ctx: RequestContext = { repoId, revision, endpoint, cacheDir, tokenSent: token !== undefined, onnx };
  const { signal } = options;
  if (signal?.aborted) throw cancelledError(ctx);

  // A commit never changes, so a complete snapshot of one needs no request at all (Python does the same).
  if (COMMIT_HASH.test(revision)) {
    try {
      return resolveFromCache(repoId, revision, cacheDir, options.files, onnx);
    } catch {
      // not (completely) cached: download below
    }
  }

  // @huggingface/hub's functions take a fetch but no AbortSignal, so bind the signal into one
  const boundFetch: typeof fetch = (input, init) => fetch(input, { ...init, ...(signal ? { signal } : {}) });
  let remote: RemoteSnapshot;
  try {
    remote = await fetchRemoteSnapshot({ repoId, revision, endpoint, token, fetch: boundFetch });
  } catch (err) {
    throw toHubError(err, ctx, signal);
  }
  writeRef(cacheDir, repoId, revision, remote.commit);

  const job: Job = { ctx, remote, cacheDir, token, snapshot: snapshotFolder(cacheDir, repoId, remote.commit), options };
  if (options.files) {
    for (const file of options.files) await ensureFile(job, file);
  } else {
    await ensureCheckpoint(job);
  }
  return job.snapshot;
}

interface Job {
  ctx: RequestContext;
  remote: RemoteSnapshot;
  cacheDir: string;
  token: string | undefined;
  snapshot: string;
  options: DownloadModelOptions;
}

/**
 * config.json, the optional small files the repo has, then one weight format (with its shards);
 * a repo without weights but with an ONNX export gets the chosen variant of that instead.
 */
async function ensureCheckpoint(job: Job): Promise<void> {
  const { repoId, revision } = job.ctx;
  const has = (file: string) => job.remote.files.has(file);
  const weights = chooseWeights(has);
  if (!weights && hasOnnxGraphs([...job.remote.files.keys()])) return ensureOnnxExport(job);
  if (!has('config.json')) {
    throw new HubError('not-found', repoId, `${repoId} (revision ${revision}) has no config.json, so it is not a Pix2Struct checkpoint`);
  }
  if (!weights) {
    const names = WEIGHT_FORMATS.flatMap((f) => [f.single, f.index]).join(', ');
    throw new HubError('not-found', repoId, `${repoId} (revision ${revision}) has no weights: none of ${names}, and no ONNX export (onnx/encoder_model.onnx, …)`);
  }
  for (const file of ['config.json', ...OPTIONAL_FILES.filter(has), weights.file]) await ensureFile(job, file);
  if (!weights.sharded) return;
  const shards = parseShardNames(fs.readFileSync(path.join(job.snapshot, weights.file), 'utf8'));
  if (!shards) throw new HubError('bad-response', repoId, `${weights.file} of ${repoId} (revision ${revision}) has no valid "weight_map"`);
  for (const shard of shards) await ensureFile(job, shard);
}

/**
 * The configs, the chosen variant's graphs, then the external data each graph names (known only
 * once the graph is here). Nothing is fetched when the variant is missing from the repo.
 */
async function ensureOnnxExport(job: Job): Promise<void> {
  const { repoId, revision } = job.ctx;
  const plan = planOnnxDownload([...job.remote.files.keys()], job.ctx.onnx ?? {}, OPTIONAL_FILES, repoId, revision);
  for (const file of [...plan.configs, ...plan.graphs]) await ensureFile(job, file);
  for (const graph of plan.graphs) {
    let data: string[];
    try {
      data = graphExternalData(job.snapshot, graph);
    } catch (err) {
      throw new HubError('bad-response', repoId, `"${graph}" of ${repoId} (revision ${revision}): ${(err as Error).message}`, { cause: err });
    }
    for (const file of data) {
      if (!job.remote.files.has(file)) throw new HubError('not-found', repoId, `"${graph}" of ${repoId} (revision ${revision}) keeps its weights in "${file}", which the repo does not have`);
      await ensureFile(job, file);
    }
  }
}

/** Makes snapshots/<commit>/<file> exist, downloading its blob only when no snapshot has it yet. */
async function ensureFile(job: Job, file: string): Promise<void> {
  const ctx = { ...job.ctx, file };
  validateRepoPath(ctx.repoId, file);
  const remote = job.remote.files.get(file);
  if (!remote) throw httpStatusError(404, ctx);
  const pointer = path.join(job.snapshot, file);
  if (fs.existsSync(pointer)) return; // follows the link: a dangling one is repaired below
  const blob = blobPath(job.cacheDir, ctx.repoId, remote.etag);
  if (!isFile(blob)) {
    try {
      await fetchBlobOnce(job, ctx, remote, blob);
    } catch (err) {
      throw toHubError(err, ctx, job.options.signal);
    }
  }
  linkSnapshotFile(pointer, blob);
}

/**
 * Two downloads of the same blob in this process share one transfer instead of both appending to
 * the same .incomplete file. (Python's cross-process file lock is not used: Node has no flock.)
 */
const inFlight = new Map<string, Promise<void>>();

async function fetchBlobOnce(job: Job, ctx: RequestContext, remote: RemoteFile, blob: string): Promise<void> {
  const running = inFlight.get(blob);
  if (running) return running;
  const transfer = fetchBlob(job, ctx, remote, blob);
  inFlight.set(blob, transfer);
  try {
    await transfer;
  } finally {
    inFlight.delete(blob);
  }
}

async function fetchBlob(job: Job, ctx: RequestContext, remote: RemoteFile, blob: string): Promise<void> {
  const incompletePath = `${blob}.incomplete`;
  fs.mkdirSync(path.dirname(blob), { recursive: true });
  const { onProgress, signal } = job.options;
  await transferToIncomplete({
    url: resolveUrl(ctx.endpoint, ctx.repoId, job.remote.commit, remote.path),
    token: job.token,
    incompletePath,
    remote,
    ctx,
    ...(signal ? { signal } : {}),
    onBytes: (bytes) => {
      try {
        onProgress?.({ file: remote.path, bytes, total: remote.size });
      } catch {
        // a failing progress listener must not fail (or retry) the download
      }
    },
  });
  await verifyDownload(incompletePath, remote, ctx.repoId, job.remote.commit);
  fs.renameSync(incompletePath, blob); // the blob appears only once complete and verified
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
