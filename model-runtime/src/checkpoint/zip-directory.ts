import * as fs from 'node:fs';
import { CheckpointError } from '../errors';
import { openRegularFile } from './open-file';

/** One member of a zip archive, located from the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate, … */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  /** CRC-32 of the uncompressed bytes, as the central directory lists it */
  crc32: number;
  /** Absolute offset of the member's first data byte (past its local file header). */
  dataOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_BYTES = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_BYTES = 46;
const LOCAL_SIGNATURE = 0x04034b50;
const LOCAL_BYTES = 30;
const ZIP64_EXTRA_ID = 0x0001;
// A state dict's directory is a few hundred bytes per tensor; anything near this is not a checkpoint.
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;
const STORED = 0;
const FLAG_ENCRYPTED = 0x1;

/**
 * Builds the error a malformed archive is reported with: each caller names the file in its own
 * terms (a checkpoint, a downloaded package). `detail` says what is wrong.
 */
export type ZipFailure = (detail: string, cause?: unknown) => Error;

/** The default: a CheckpointError naming the file, for torch .bin checkpoints. */
const checkpointFailure =
  (file: string): ZipFailure =>
  (detail, cause) =>
    new CheckpointError(file, detail, undefined, cause === undefined ? undefined : { cause });

/**
 * Lists a zip archive's members from its central directory (zip64 included, since large
 * checkpoints pass 4 GB) and resolves where each member's data starts. The local header is
 * read for every entry because its name/extra lengths may differ from the central
 * directory's: torch pads the local extra field so that storages start 64-byte aligned.
 * Serves torch .bin checkpoints and the CUDA provider's .nupkg (zip-entry-stream.ts unpacks
 * members); `fail` words the errors for each.
 */
export function readZipDirectory(file: string, fail: ZipFailure = checkpointFailure(file)): ZipEntry[] {
  const { fd, fileSize } = openArchive(file, fail);
  try {
    const { count, offset, size } = findCentralDirectory(fd, fail, fileSize);
    if (size > MAX_DIRECTORY_BYTES || offset + size > fileSize) {
      throw fail(`zip central directory (${size} bytes at ${offset}) does not fit in the ${fileSize}-byte file (truncated?)`);
    }
    const directory = readAt(fd, fail, offset, size);
    const entries: ZipEntry[] = [];
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const { entry, next } = parseCentralEntry(directory, pos, fail);
      entries.push(resolveLocalHeader(fd, fail, fileSize, entry));
      pos = next;
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/** Throws unless the member is stored uncompressed, which is how torch.save writes every member. */
export function requireStored(file: string, entry: ZipEntry): void {
  if (entry.method !== STORED) {
    throw new CheckpointError(
      file,
      `zip member ${entry.name} is compressed (method ${entry.method}); torch.save writes members uncompressed, so this archive was repacked: re-save it with torch.save or save_pretrained`,
    );
  }
}

/** Reads a whole stored member into memory (only for small members such as data.pkl). */
export function readStoredEntry(file: string, entry: ZipEntry): Buffer {
  requireStored(file, entry);
  const fd = fs.openSync(file, 'r');
  try {
    return readAt(fd, checkpointFailure(file), entry.dataOffset, entry.uncompressedSize);
  } finally {
    fs.closeSync(fd);
  }
}

function openArchive(file: string, fail: ZipFailure): { fd: number; fileSize: number } {
  const { fd, size } = openRegularFile(file, fail);
  return { fd, fileSize: size };
}

interface DirectoryLocation {
  count: number;
  offset: number;
  size: number;
}

function findCentralDirectory(fd: number, fail: ZipFailure, fileSize: number): DirectoryLocation {
  // The end record sits in the last 22 bytes plus at most a 64 KiB comment: scan that tail backwards.
  const tailLength = Math.min(fileSize, EOCD_BYTES + MAX_COMMENT_BYTES);
  const tailStart = fileSize - tailLength;
  const tail = readAt(fd, fail, tailStart, tailLength);
  let at = -1;
  for (let i = tailLength - EOCD_BYTES; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_BYTES + tail.readUInt16LE(i + 20) <= tailLength) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw fail(`not a zip archive: no end-of-central-directory record (${notZipHint(tail, tailStart)})`);
  }
  const count = tail.readUInt16LE(at + 10);
  const size = tail.readUInt32LE(at + 12);
  const offset = tail.readUInt32LE(at + 16);
  if (count !== 0xffff && size !== 0xffffffff && offset !== 0xffffffff) return { count, offset, size };

  // Saturated fields: the real values live in the zip64 end record, found through its locator.
  const locatorAt = tailStart + at - ZIP64_LOCATOR_BYTES;
  if (locatorAt < 0) throw fail('zip end record needs a zip64 record but none precedes it (corrupt archive)');
  const locator = readAt(fd, fail, locatorAt, ZIP64_LOCATOR_BYTES);
  if (locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) throw fail('zip64 end-of-central-directory locator is missing (corrupt archive)');
  const recordAt = safeNumber(locator.readBigUInt64LE(8), fail, 'zip64 end record offset');
  if (recordAt + ZIP64_EOCD_BYTES > fileSize) throw fail(`zip64 end record offset ${recordAt} is past the end of the file (truncated?)`);
  const record = readAt(fd, fail, recordAt, ZIP64_EOCD_BYTES);
  if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw fail('zip64 end-of-central-directory record is missing (corrupt archive)');
  return {
    count: safeNumber(record.readBigUInt64LE(32), fail, 'zip64 entry count'),
    size: safeNumber(record.readBigUInt64LE(40), fail, 'zip64 central directory size'),
    offset: safeNumber(record.readBigUInt64LE(48), fail, 'zip64 central directory offset'),
  };
}

/** torch.save before 1.6 wrote a bare pickle stream (starting with PROTO 2); say so rather than "truncated". */
function notZipHint(tail: Buffer, tailStart: number): string {
  const pickle = tailStart === 0 && tail.length >= 2 && tail[0] === 0x80 && tail[1] === 0x02;
  return pickle ? "it looks like a bare pickle stream, torch.save's legacy pre-1.6 format: re-save it with torch >= 1.6" : 'truncated, or not a zip file?';
}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

function parseCentralEntry(dir: Buffer, pos: number, fail: ZipFailure): { entry: CentralEntry; next: number } {
  if (pos + CENTRAL_BYTES > dir.length || dir.readUInt32LE(pos) !== CENTRAL_SIGNATURE) {
    throw fail(`zip central directory is corrupt at byte ${pos} of the directory`);
  }
  const nameLength = dir.readUInt16LE(pos + 28);
  const extraLength = dir.readUInt16LE(pos + 30);
  const commentLength = dir.readUInt16LE(pos + 32);
  const next = pos + CENTRAL_BYTES + nameLength + extraLength + commentLength;
  if (next > dir.length) throw fail(`zip central directory entry at byte ${pos} runs past the directory`);
  const name = dir.toString('utf8', pos + CENTRAL_BYTES, pos + CENTRAL_BYTES + nameLength);
  let uncompressedSize = dir.readUInt32LE(pos + 24);
  let compressedSize = dir.readUInt32LE(pos + 20);
  let localHeaderOffset = dir.readUInt32LE(pos + 42);

  // Zip64 extra field: 8-byte values, present in this order only for the saturated 32-bit fields.
  const extraStart = pos + CENTRAL_BYTES + nameLength;
  const extraEnd = extraStart + extraLength;
  for (let p = extraStart; p + 4 <= extraEnd; ) {
    const id = dir.readUInt16LE(p);
    const length = dir.readUInt16LE(p + 2);
    const body = p + 4;
    if (body + length > extraEnd) throw fail(`zip extra field of ${name} runs past its entry`);
    if (id === ZIP64_EXTRA_ID) {
      let q = body;
      const take = (what: string): number => {
        if (q + 8 > body + length) throw fail(`zip64 extra field of ${name} lacks its ${what}`);
        const v = safeNumber(dir.readBigUInt64LE(q), fail, `${name} ${what}`);
        q += 8;
        return v;
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
      if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
    }
    p = body + length;
  }
  const entry = { name, method: dir.readUInt16LE(pos + 10), flags: dir.readUInt16LE(pos + 8), crc32: dir.readUInt32LE(pos + 16), compressedSize, uncompressedSize, localHeaderOffset };
  return { entry, next };
}

function resolveLocalHeader(fd: number, fail: ZipFailure, fileSize: number, entry: CentralEntry): ZipEntry {
  if (entry.flags & FLAG_ENCRYPTED) throw fail(`zip member ${entry.name} is encrypted`);
  if (entry.localHeaderOffset + LOCAL_BYTES > fileSize) {
    throw fail(`zip member ${entry.name} starts past the end of the file (truncated?)`);
  }
  const local = readAt(fd, fail, entry.localHeaderOffset, LOCAL_BYTES);
  if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw fail(`zip member ${entry.name} has no local file header at ${entry.localHeaderOffset} (corrupt archive)`);
  const dataOffset = entry.localHeaderOffset + LOCAL_BYTES + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (dataOffset + entry.compressedSize > fileSize) {
    throw fail(`zip member ${entry.name} (${entry.compressedSize} bytes at ${dataOffset}) extends past the end of the ${fileSize}-byte file (truncated?)`);
  }
  return { name: entry.name, method: entry.method, compressedSize: entry.compressedSize, uncompressedSize: entry.uncompressedSize, crc32: entry.crc32, dataOffset };
}

function readAt(fd: number, fail: ZipFailure, position: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw fail(`unexpected end of file reading ${length} bytes at ${position} (truncated?)`);
    done += n;
  }
  return out;
}

function safeNumber(v: bigint, fail: ZipFailure, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`${what} ${v} is too large (corrupt archive)`);
  return Number(v);
}
