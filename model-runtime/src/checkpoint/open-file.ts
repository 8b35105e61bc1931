import * as fs from 'node:fs';
import { CheckpointError } from '../errors';

/** Opens a weights file for positional reads; failures name the file. Close the fd when done. */
export function openWeightsFile(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new CheckpointError(file, `cannot open: ${(err as Error).message}`, undefined, { cause: err });
  }
  return { fd, size: fs.fstatSync(fd).size };
}
