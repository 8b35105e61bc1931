import * as fs from 'node:fs';
import { CheckpointError } from '../errors';

/** Builds the error a file that cannot be read is reported with; each caller names it in its own terms. */
export type OpenFailure = (detail: string, cause?: unknown) => Error;

// O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer forever. It changes nothing
// for regular files, and Windows (which has no FIFOs here) has no such flag.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Opens a path that must be a regular file (directly or through symbolic links) for positional
 * reads. Directories, FIFOs, sockets, devices, symbolic-link loops and dangling links are refused
 * with a sentence saying which they are, never blocking and never reading from them. Close the fd.
 */
export function openRegularFile(file: string, fail: OpenFailure): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw fail(whyUnreadable(file, err as NodeJS.ErrnoException), err);
  }
  const stats = fs.fstatSync(fd);
  if (!stats.isFile()) {
    fs.closeSync(fd);
    throw fail(`is ${kindOf(stats)}, not a regular file`);
  }
  return { fd, size: stats.size };
}

/** Opens a weights file for positional reads; failures name the file. Close the fd when done. */
export function openWeightsFile(file: string): { fd: number; size: number } {
  return openRegularFile(file, (detail, cause) => new CheckpointError(file, detail, undefined, cause === undefined ? undefined : { cause }));
}

/** Whether anything, even a dangling symbolic link, sits at `file` (existsSync follows links). */
export function entryExists(file: string): boolean {
  return fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
}

/** What a path that is not a regular file is, as "a directory", "a named pipe (FIFO)", … */
export function kindOf(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return stats.isFile() ? 'a file' : 'not a regular file';
}

/** Why `file` could not be opened or stat'ed, as the rest of a sentence about it: "is a symbolic link loop", … */
export function whyUnreadable(file: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT': {
      const link = fs.lstatSync(file, { throwIfNoEntry: false });
      if (link?.isSymbolicLink()) return `is a symbolic link to ${JSON.stringify(readLink(file))}, which does not exist`;
      return 'file not found';
    }
    case 'ELOOP':
      return 'is a symbolic link loop (or a chain of more than 40 links)';
    case 'EISDIR':
      return 'is a directory, not a regular file';
    case 'ENXIO':
      return 'is a socket or a device without a driver, not a regular file';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return `cannot open (${err.code ?? err.message})`;
  }
}

function readLink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '?';
  }
}
