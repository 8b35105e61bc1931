import * as fs from 'node:fs';
import * as path from 'node:path';
import { HubError } from '../errors';
import { readCachedCommit, snapshotFolder } from './cache-layout';
import { missingCheckpointFiles } from './checkpoint-files';
import type { OnnxChoice } from './onnx-files';

/**
 * The snapshot folder of a cached revision holding `files` (default: a loadable checkpoint, for an
 * ONNX export the variant `onnx` names), without any network access; otherwise a
 * HubError('offline-missing') naming what is missing and how to get it.
 */
export function resolveFromCache(repoId: string, revision: string, cacheDir: string, files?: string[], onnx: OnnxChoice = {}): string {
  const howTo =
    `download it once with network access (HF_HUB_OFFLINE unset), e.g. downloadModel("${repoId}", { revision: "${revision}" }) ` +
    `or \`huggingface-cli download ${repoId} --revision ${revision}\`, with the same cache folder`;
  const commit = readCachedCommit(cacheDir, repoId, revision);
  if (!commit) {
    throw new HubError('offline-missing', repoId, `offline mode: ${repoId} (revision ${revision}) is not in the cache ${cacheDir}; ${howTo}`);
  }
  const dir = snapshotFolder(cacheDir, repoId, commit);
  const missing = files ? files.filter((file) => !fs.existsSync(path.join(dir, file))) : missingCheckpointFiles(dir, onnx);
  if (missing.length > 0) {
    throw new HubError(
      'offline-missing',
      repoId,
      `offline mode: the cached ${repoId} (revision ${revision}, commit ${commit}) lacks ${missing.join(', ')} in ${dir}; ${howTo}`,
    );
  }
  return dir;
}
