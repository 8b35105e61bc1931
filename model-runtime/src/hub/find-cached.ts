import { isCompleteCheckpoint } from './checkpoint-files';
import { readCachedCommit, snapshotFolder, validateRepoId } from './cache-layout';
import type { OnnxChoice } from './onnx-files';
import { resolveCacheDir } from './settings';

/** onnxVariant / onnxDecoder: for a repo holding only an ONNX export, the graphs that must be there. */
export interface FindCachedOptions extends OnnxChoice {
  /** branch, tag or commit hash; default "main" */
  revision?: string;
  /** default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub */
  cacheDir?: string;
}

/**
 * The snapshot folder of a cached model that holds a loadable checkpoint (config.json and complete
 * weights, or the chosen variant of an ONNX export), whether our code or Python's huggingface_hub downloaded it; null otherwise. Never
 * touches the network, so it answers the same offline.
 */
export function findCachedModel(repoId: string, options: FindCachedOptions = {}): string | null {
  try {
    validateRepoId(repoId);
  } catch {
    return null; // an id the Hub would refuse cannot be in the cache
  }
  const cacheDir = resolveCacheDir(options.cacheDir);
  const commit = readCachedCommit(cacheDir, repoId, options.revision ?? 'main');
  if (!commit) return null;
  const dir = snapshotFolder(cacheDir, repoId, commit);
  return isCompleteCheckpoint(dir, options) ? dir : null;
}
