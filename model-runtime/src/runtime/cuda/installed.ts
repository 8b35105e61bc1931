import * as fs from 'node:fs';
import * as path from 'node:path';
import { cudaProviderTarget, installDirFor, type CudaProviderTarget } from './target';

/**
 * An install on disk: the provider libraries plus `manifest.json`, written last, so a folder
 * without a manifest (or with files of other sizes than it lists) is an unfinished install.
 */
export interface CudaProviderManifest {
  onnxruntimeVersion: string;
  platform: string;
  arch: string;
  package: { id: string; version: string; url: string; sha512: string };
  files: { name: string; size: number; crc32: number }[];
  installedAt: string;
}

export interface CudaProviderInstall {
  dir: string;
  manifest: CudaProviderManifest;
}

const MANIFEST = 'manifest.json';

/** A complete install for `target` under `root` (manifest present, every file there with its size), or null. */
export function findCudaProviderInstall(root: string, target?: CudaProviderTarget): CudaProviderInstall | null {
  let t: CudaProviderTarget;
  try {
    t = target ?? cudaProviderTarget();
  } catch {
    return null; // no CUDA provider on this platform, so none installed
  }
  const dir = installDirFor(root, t);
  let manifest: CudaProviderManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as CudaProviderManifest;
  } catch {
    return null;
  }
  if (manifest.onnxruntimeVersion !== t.onnxruntimeVersion || manifest.platform !== t.platform || manifest.arch !== t.arch) return null;
  if (!Array.isArray(manifest.files)) return null;
  for (const f of t.files) {
    const listed = manifest.files.find((m) => m.name === f.name);
    if (!listed || sizeOf(path.join(dir, f.name)) !== listed.size) return null;
  }
  return { dir, manifest };
}

/** Versions installed under `root` other than the current one ("1.29.0-linux-x64"), for hints. */
export function otherCudaProviderInstalls(root: string, target: CudaProviderTarget): string[] {
  const current = path.basename(installDirFor(root, target));
  try {
    return fs
      .readdirSync(root)
      .filter((n) => n.startsWith('onnxruntime-') && n !== current && fs.existsSync(path.join(root, n, MANIFEST)))
      .map((n) => n.slice('onnxruntime-'.length));
  } catch {
    return [];
  }
}

/** Marks `dir` unfinished until writeManifest runs again (before its files are replaced). */
export function removeManifest(dir: string): void {
  fs.rmSync(path.join(dir, MANIFEST), { force: true });
}

/** Completes an install: the manifest appears whole (written aside, then renamed) or not at all. */
export function writeManifest(dir: string, manifest: CudaProviderManifest): void {
  const file = path.join(dir, MANIFEST);
  const tmp = `${file}.partial-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

export function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
