import * as fs from 'node:fs';
import * as path from 'node:path';
import { WEIGHT_FORMATS } from '../checkpoint/weight-formats';
import { exportFolderFiles, hasOnnxGraphs } from '../onnx-export/export-files';
import { missingExportFiles, type OnnxChoice } from './onnx-files';

/** Small files a Pix2Struct folder uses when the repo has them (only config.json is required). */
export const OPTIONAL_FILES = [
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
] as const;

export { WEIGHT_FORMATS };

export interface WeightChoice {
  file: string;
  /** true when `file` is an index naming shards that must be fetched too */
  sharded: boolean;
}

/** The weights to fetch, given which files exist; null when the repo has none the loader reads. */
export function chooseWeights(exists: (file: string) => boolean): WeightChoice | null {
  for (const format of WEIGHT_FORMATS) {
    if (exists(format.single)) return { file: format.single, sharded: false };
    if (exists(format.index)) return { file: format.index, sharded: true };
  }
  return null;
}

/**
 * The shard names listed by a sharded checkpoint's index. Like the loader, shards must be plain
 * file names next to the index; anything else is refused (the index comes from the network).
 */
export function parseShardNames(indexText: string): string[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(indexText);
  } catch {
    return null;
  }
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null) return null;
  const shards = new Set<string>();
  for (const shard of Object.values(map)) {
    if (typeof shard !== 'string' || shard === '' || /[\\/]/.test(shard) || shard.startsWith('.')) return null;
    shards.add(shard);
  }
  return [...shards].sort();
}

/**
 * What a snapshot folder lacks to be a loadable checkpoint: config.json and one complete weight
 * format (every shard of an index present), or, without weights, the graphs of `onnx`'s variant
 * of an ONNX export and the external data they reference. Follows symlinks, so dangling links
 * count as missing.
 */
export function missingCheckpointFiles(dir: string, onnx: OnnxChoice = {}): string[] {
  const has = (file: string) => fs.existsSync(path.join(dir, file));
  const weights = chooseWeights(has);
  if (!weights) {
    const files = exportFolderFiles(dir);
    if (hasOnnxGraphs(files)) return missingExportFiles(dir, files, onnx);
  }
  const missing = has('config.json') ? [] : ['config.json'];
  if (!weights) return [...missing, WEIGHT_FORMATS.flatMap((f) => [f.single, f.index]).join(' or ')];
  if (!weights.sharded) return missing;
  let shards: string[] | null = null;
  try {
    shards = parseShardNames(fs.readFileSync(path.join(dir, weights.file), 'utf8'));
  } catch {
    // unreadable index: reported below
  }
  if (!shards) return [...missing, `a valid ${weights.file}`];
  return [...missing, ...shards.filter((s) => !has(s))];
}

export function isCompleteCheckpoint(dir: string, onnx: OnnxChoice = {}): boolean {
  return missingCheckpointFiles(dir, onnx).length === 0;
}
