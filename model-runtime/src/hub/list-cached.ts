import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPTIMUM_VARIANTS } from '../onnx-export/layout';
import { isCompleteCheckpoint } from './checkpoint-files';
import { resolveCacheDir } from './settings';

export interface CachedRevision {
  commit: string;
  /** branches and tags (refs/<name>) that point at this commit */
  refs: string[];
  snapshotPath: string;
  /** bytes of the distinct files this snapshot links to */
  size: number;
  /** whether the snapshot holds a loadable checkpoint (config.json and complete weights, or some complete ONNX export variant) */
  complete: boolean;
}

export interface CachedModel {
  repoId: string;
  /** the models--<org>--<name> folder */
  path: string;
  /** bytes stored for the repo: every blob, partial downloads included, plus copied (non-linked) snapshot files */
  sizeOnDisk: number;
  revisions: CachedRevision[];
}

const MODEL_PREFIX = 'models--';

/**
 * Lists the models in a hub cache, including ones Python's huggingface_hub downloaded.
 *
 * Written here rather than using @huggingface/hub's scanCacheDir because that one drops a repo
 * (into `warnings`) when it has no refs/ folder, which is what Python leaves after a download by
 * commit hash, and it ignores files in snapshot subfolders.
 */
export function listCachedModels(cacheDir?: string): CachedModel[] {
  const root = resolveCacheDir(cacheDir);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return []; // no cache yet
  }
  const models: CachedModel[] = [];
  for (const name of names.sort()) {
    const folder = path.join(root, name);
    if (!name.startsWith(MODEL_PREFIX) || !isDirectory(folder)) continue;
    models.push({
      repoId: name.slice(MODEL_PREFIX.length).split('--').join('/'),
      path: folder,
      sizeOnDisk: storedBytes(path.join(folder, 'blobs')) + storedBytes(path.join(folder, 'snapshots')),
      revisions: listRevisions(folder),
    });
  }
  return models;
}

function listRevisions(folder: string): CachedRevision[] {
  const refsByCommit = new Map<string, string[]>();
  for (const ref of walkFiles(path.join(folder, 'refs'))) {
    const commit = readText(path.join(folder, 'refs', ref));
    if (commit) refsByCommit.set(commit, [...(refsByCommit.get(commit) ?? []), ref]);
  }
  const snapshots = path.join(folder, 'snapshots');
  return listDir(snapshots)
    .filter((commit) => isDirectory(path.join(snapshots, commit)))
    .map((commit) => {
      const snapshotPath = path.join(snapshots, commit);
      return { commit, refs: refsByCommit.get(commit) ?? [], snapshotPath, size: linkedBytes(snapshotPath), complete: isLoadable(snapshotPath) };
    });
}

/** A checkpoint with weights, or an ONNX export with at least one variant complete. */
function isLoadable(snapshot: string): boolean {
  return OPTIMUM_VARIANTS.some((onnxVariant) => isCompleteCheckpoint(snapshot, { onnxVariant }));
}

/** Sum of the sizes of the distinct targets a snapshot's entries resolve to (dangling links skipped). */
function linkedBytes(dir: string): number {
  const seen = new Map<string, number>();
  for (const rel of walkFiles(dir)) {
    try {
      const target = fs.realpathSync(path.join(dir, rel));
      seen.set(target, fs.statSync(target).size);
    } catch {
      // dangling link: the blob was deleted
    }
  }
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

/** Bytes of the regular files under a folder; symlinks cost (almost) nothing and are skipped. */
function storedBytes(dir: string): number {
  let total = 0;
  for (const rel of walkFiles(dir)) {
    const stat = fs.lstatSync(path.join(dir, rel));
    if (stat.isFile()) total += stat.size;
  }
  return total;
}

/** Relative paths ("/"-separated) of the non-directory entries under a folder; [] when it is missing. */
function walkFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, prefix), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walkFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
