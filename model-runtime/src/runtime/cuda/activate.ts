/**
 * onnxruntime loads provider libraries only from the folder of libonnxruntime.so.1 itself (no
 * search path, and onnxruntime-node 1.30 exposes no plugin-provider registration), so the
 * installed files are linked into that folder when a session first asks for CUDA. The install
 * is the durable copy; a new extension version (a new binding folder) is linked again from it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProviderInstallError } from '../../errors';
import { sizeOf, type CudaProviderInstall } from './installed';

/** Ways to place a library, cheapest first: a symbolic link (no copy of ~0.5 GB), a hard link, a copy. */
const PLACEMENTS: [string, (src: string, dest: string) => void][] = [
  ['symlink', (src, dest) => fs.symlinkSync(src, dest)],
  ['hard link', (src, dest) => fs.linkSync(src, dest)],
  ['copy', (src, dest) => fs.copyFileSync(src, dest)],
];

/**
 * Puts the installed libraries beside libonnxruntime.so.1 (`bindingDir`), each made under a
 * temporary name and renamed into place. A library already there (from onnxruntime-node's own
 * install script, or linked before) is left alone.
 */
export function activateCudaProvider(install: CudaProviderInstall, bindingDir: string): void {
  for (const f of install.manifest.files) {
    const src = path.join(install.dir, f.name);
    const dest = path.join(bindingDir, f.name);
    if (sameFile(src, dest)) continue;
    if (sizeOf(dest) > 0 && !isLink(dest)) continue; // installed another way: keep it
    placeLibrary(src, dest, bindingDir);
  }
}

function placeLibrary(src: string, dest: string, bindingDir: string): void {
  const tmp = `${dest}.p2s-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const errors: string[] = [];
  for (const [way, make] of PLACEMENTS) {
    try {
      make(src, tmp);
      fs.renameSync(tmp, dest);
      return;
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      const code = (err as { code?: string }).code ?? (err as Error).message;
      errors.push(`${way}: ${code}`);
      if (code === 'EACCES' || code === 'EROFS') break; // the folder is not writable: no other way will do
    }
  }
  throw new ProviderInstallError(
    'activation',
    `cannot place the CUDA provider library ${path.basename(dest)} beside onnxruntime in ${bindingDir} (${errors.join(', ')}); onnxruntime loads providers only from there, so that folder must be writable by this user`,
  );
}

function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
