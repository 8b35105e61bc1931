import * as fs from 'node:fs';

/** Random access to the bytes of a file or buffer, so a large file is read a piece at a time. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes from `offset`; fewer at the end of the data. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export function bufferSource(data: Uint8Array): ByteSource {
  return {
    size: data.length,
    read: (offset, length) => data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length)),
    close: () => {},
  };
}

/** A file the caller has already checked is a regular file (see readImageHead). */
export function fileSource(file: string): ByteSource {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read: (offset, length) => {
      const want = Math.max(0, Math.min(length, size - offset));
      const out = Buffer.alloc(want);
      let done = 0;
      while (done < want) {
        const n = fs.readSync(fd, out, done, want - done, offset + done);
        if (n === 0) break; // the file shrank since it was opened
        done += n;
      }
      return out.subarray(0, done);
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * Reads a source byte by byte through a buffered window, for formats (BMP run-length data)
 * that are parsed one byte at a time.
 */
export class ByteCursor {
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart: number;

  constructor(
    private readonly source: ByteSource,
    private position: number,
    private readonly chunkSize = 1 << 16,
  ) {
    this.chunkStart = position;
  }

  /** The next byte, or -1 at the end of the data. */
  next(): number {
    let i = this.position - this.chunkStart;
    if (i >= this.chunk.length) {
      this.chunkStart = this.position;
      this.chunk = this.source.read(this.position, this.chunkSize);
      i = 0;
      if (this.chunk.length === 0) return -1;
    }
    this.position++;
    return this.chunk[i]!;
  }
}
