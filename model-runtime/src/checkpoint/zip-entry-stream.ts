import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { ZipEntry, ZipFailure } from './zip-directory';

const STORED = 0;
const DEFLATED = 8;
const READ_CHUNK = 1 << 20;

/**
 * The uncompressed bytes of one member of a zip archive (stored or deflated), streamed from disk
 * one chunk at a time, so a member of hundreds of megabytes never sits in memory. The stream ends
 * with `fail(...)` thrown, not normally, unless the bytes add up to the size and CRC-32 the
 * central directory lists: a caller writing them to a temporary file renames it only after a
 * clean end. Stopping early (break, or an exception in the caller's loop) closes the file.
 */
export async function* zipEntryChunks(file: string, entry: ZipEntry, fail: ZipFailure): AsyncGenerator<Buffer> {
  if (entry.method !== STORED && entry.method !== DEFLATED) throw fail(`zip member ${entry.name} uses compression method ${entry.method}, not stored or deflate`);
  let crc = 0;
  let size = 0;
  if (entry.compressedSize > 0) {
    const source = fs.createReadStream(file, { start: entry.dataOffset, end: entry.dataOffset + entry.compressedSize - 1, highWaterMark: READ_CHUNK });
    try {
      for await (const chunk of uncompressed(source, entry.method)) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        yield chunk;
      }
    } catch (err) {
      throw fail(`zip member ${entry.name} cannot be unpacked: ${(err as Error).message}`, err);
    } finally {
      source.destroy();
    }
  }
  if (size !== entry.uncompressedSize || crc !== entry.crc32) {
    throw fail(`zip member ${entry.name} unpacked to ${size} bytes with CRC-32 ${hex(crc)}; the archive lists ${entry.uncompressedSize} bytes and ${hex(entry.crc32)}`);
  }
}

function uncompressed(source: fs.ReadStream, method: number): AsyncIterable<Buffer> {
  if (method === STORED) return source;
  const inflater = zlib.createInflateRaw();
  source.on('error', (err) => inflater.destroy(err)); // pipe() alone would leave the inflater waiting
  return source.pipe(inflater);
}

const hex = (crc: number) => crc.toString(16).padStart(8, '0');

let crcTable: Uint32Array | null = null;

/** CRC-32 as zip uses it, continuing from `crc`; zlib.crc32 where Node has it (>= 20.15; VS Code 1.90's host has 20.9). */
function crc32(data: Uint8Array, crc: number): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v: number) => number }).crc32;
  if (native) return native(data, crc);
  crcTable ??= buildCrcTable();
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
