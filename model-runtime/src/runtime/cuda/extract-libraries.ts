import * as fs from 'node:fs';
import * as path from 'node:path';
import { readZipDirectory, type ZipEntry, type ZipFailure } from '../../checkpoint/zip-directory';
import { zipEntryChunks } from '../../checkpoint/zip-entry-stream';
import { badPackage, cancelled, fileSystemError } from './install-errors';
import { removeManifest, type CudaProviderManifest } from './installed';
import type { CudaProviderTarget } from './target';

/**
 * Unpacks the libraries `target` needs from the verified .nupkg (a zip) into `dir`, each through a
 * temporary file renamed into place once its size and CRC-32 check out. Returns what the manifest
 * lists; the caller writes it. A package that is not a zip holding those files throws
 * ProviderInstallError('bad-package').
 */
export async function extractProviderLibraries(
  nupkg: string,
  target: CudaProviderTarget,
  dir: string,
  signal: AbortSignal | undefined,
  onProgress: (bytes: number, total: number) => void,
): Promise<CudaProviderManifest['files']> {
  const fail: ZipFailure = (why, cause) => badPackage(nupkg, why, cause);
  const entries = readZipDirectory(nupkg, fail);
  const wanted = target.files.map((file) => {
    const entry = entries.find((e) => e.name === file.entry);
    if (!entry) throw fail(`it has no ${file.entry}`);
    return { file, entry };
  });
  const total = wanted.reduce((n, w) => n + w.entry.uncompressedSize, 0);
  try {
    fs.mkdirSync(dir, { recursive: true });
    removeManifest(dir); // incomplete until the caller writes it again
  } catch (err) {
    throw fileSystemError(err, dir, 'the CUDA provider libraries', total);
  }
  let done = 0;
  onProgress(0, total);
  for (const { file, entry } of wanted) {
    await writeEntry(nupkg, entry, path.join(dir, file.name), { signal, fail }, (n) => onProgress((done += n), total));
  }
  return wanted.map(({ file, entry }) => ({ name: file.name, size: entry.uncompressedSize, crc32: entry.crc32 }));
}

async function writeEntry(
  nupkg: string,
  entry: ZipEntry,
  dest: string,
  { signal, fail }: { signal: AbortSignal | undefined; fail: ZipFailure },
  onBytes: (n: number) => void,
): Promise<void> {
  const tmp = `${dest}.partial-${process.pid}`;
  const writeFailed = (err: unknown) => fileSystemError(err, path.dirname(dest), path.basename(dest), entry.uncompressedSize);
  const out = await fs.promises.open(tmp, 'w', 0o755).catch((err: unknown) => {
    throw writeFailed(err);
  });
  try {
    for await (const chunk of zipEntryChunks(nupkg, entry, fail)) {
      if (signal?.aborted) throw cancelled('while unpacking it; the verified download is kept');
      await out.write(chunk).catch((err: unknown) => {
        throw writeFailed(err);
      });
      onBytes(chunk.length);
    }
    await out.sync();
  } catch (err) {
    await out.close().catch(() => undefined);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  await out.close();
  fs.renameSync(tmp, dest);
}
