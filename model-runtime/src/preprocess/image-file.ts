import * as fs from 'node:fs';
import { ImageError } from '../errors';

/** Enough of the start of a file to recognise every format sniffImage knows, SVG's prolog included. */
export const HEAD_BYTES = 4096;

/** A regular file that can be read, with its first bytes. */
export interface ImageFileHead {
  size: number;
  head: Buffer;
}

/**
 * Checks that `file` is a readable, non-empty regular file and reads its first bytes, with a
 * message a user can act on for everything else: missing files, folders, pipes, devices,
 * symbolic link loops, dangling links and permissions. A pipe or device is never opened for
 * reading, so nothing can block waiting for a writer.
 */
export function readImageHead(file: string, label: string): ImageFileHead {
  const stats = statFollowingLinks(file, label);
  refuseNonRegular(stats, label);
  if (stats.size === 0) throw new ImageError(label, 'the file is empty (0 bytes)');
  let fd: number;
  try {
    // O_NONBLOCK: if the path was swapped for a pipe since the stat, opening it still returns at once.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw fileError(label, err);
  }
  try {
    refuseNonRegular(fs.fstatSync(fd), label);
    const head = Buffer.alloc(Math.min(HEAD_BYTES, stats.size));
    const read = fs.readSync(fd, head, 0, head.length, 0);
    if (read === 0) throw new ImageError(label, 'the file is empty (0 bytes)');
    return { size: stats.size, head: head.subarray(0, read) };
  } catch (err) {
    throw err instanceof ImageError ? err : fileError(label, err);
  } finally {
    fs.closeSync(fd);
  }
}

function statFollowingLinks(file: string, label: string): fs.Stats {
  try {
    return fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new ImageError(label, `a symbolic link to ${fs.readlinkSync(file)}, which does not exist`);
    }
    throw fileError(label, err);
  }
}

function refuseNonRegular(stats: fs.Stats, label: string): void {
  if (stats.isFile()) return;
  if (stats.isDirectory()) throw new ImageError(label, 'a folder, not an image file');
  if (stats.isFIFO()) throw new ImageError(label, 'a named pipe (FIFO), not an image file — save the image to a regular file first');
  if (stats.isSocket()) throw new ImageError(label, 'a socket, not an image file');
  if (stats.isCharacterDevice() || stats.isBlockDevice()) throw new ImageError(label, 'a device, not an image file');
  throw new ImageError(label, 'not a regular file');
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'file not found',
  ENOTDIR: 'file not found',
  ELOOP: 'a symbolic link loop (the link leads back to itself), not an image file',
  EACCES: 'permission denied — this user cannot read the file',
  EPERM: 'permission denied — this user cannot read the file',
  EISDIR: 'a folder, not an image file',
  ENAMETOOLONG: 'the path is too long',
};

/** What a failed stat, open or read means to the user. */
function fileError(label: string, err: unknown): ImageError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = (code && FILE_ERRORS[code]) ?? `cannot be read (${code ?? (err as Error).message})`;
  return new ImageError(label, reason, { cause: err });
}
