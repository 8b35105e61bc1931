import * as fs from 'node:fs';
import { CheckpointError } from '../errors';
import { openWeightsFile } from './open-file';

export type WeightDtype = 'F32' | 'F16' | 'BF16';

const DTYPE_BYTES: Record<WeightDtype, number> = { F32: 4, F16: 2, BF16: 2 };
// A header this large means a corrupt length prefix rather than a real checkpoint.
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** One tensor's location inside a safetensors file; byteOffset is absolute in the file. */
export interface TensorEntry {
  name: string;
  file: string;
  dtype: WeightDtype;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  /** Absolute offset of the first data byte (8 + header length). */
  dataStart: number;
  tensors: Map<string, TensorEntry>;
}

/**
 * Reads and validates only the JSON header of a safetensors file; tensor data stays on disk
 * until a consumer reads exactly the bytes it needs.
 */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const { fd, size: fileSize } = openWeightsFile(file);
  try {
    if (fileSize < 8) throw new CheckpointError(file, `file is ${fileSize} bytes, too short to hold a safetensors header (truncated?)`);
    const prefix = Buffer.alloc(8);
    fs.readSync(fd, prefix, 0, 8, 0);
    // Compared as a bigint: a corrupt prefix may exceed 2^53, and the message shows it exactly.
    const declared = prefix.readBigUInt64LE(0);
    if (declared > BigInt(MAX_HEADER_BYTES) || 8n + declared > BigInt(fileSize)) {
      throw new CheckpointError(file, `header length ${declared} does not fit in a ${fileSize}-byte file (truncated or not safetensors)`);
    }
    const headerLength = Number(declared);
    const headerBytes = Buffer.alloc(headerLength);
    fs.readSync(fd, headerBytes, 0, headerLength, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new CheckpointError(file, 'header is not valid JSON (corrupt or not a safetensors file)', undefined, { cause: err });
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw new CheckpointError(file, 'header is not a JSON object');
    }
    const dataStart = 8 + headerLength;
    const dataSize = fileSize - dataStart;
    const tensors = new Map<string, TensorEntry>();
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      tensors.set(name, parseEntry(file, name, value, dataStart, dataSize));
    }
    checkNoOverlap(file, [...tensors.values()]);
    return { file, fileSize, dataStart, tensors };
  } finally {
    fs.closeSync(fd);
  }
}

function parseEntry(file: string, name: string, value: unknown, dataStart: number, dataSize: number): TensorEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof v !== 'object' || v === null) throw new CheckpointError(file, 'header entry is not an object', name);
  if (typeof v.dtype !== 'string' || !(v.dtype in DTYPE_BYTES)) {
    throw new CheckpointError(file, `dtype ${JSON.stringify(v.dtype)} is not supported (expected F32, F16 or BF16)`, name);
  }
  const dtype = v.dtype as WeightDtype;
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new CheckpointError(file, `shape ${JSON.stringify(v.shape)} is not a list of non-negative integers`, name);
  }
  const shape = v.shape as number[];
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new CheckpointError(file, `data_offsets ${JSON.stringify(offsets)} must be two non-negative integers`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new CheckpointError(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
  if (end > dataSize) {
    throw new CheckpointError(file, `data_offsets [${begin}, ${end}] point past the end of the data (${dataSize} bytes; file truncated?)`, name);
  }
  const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw new CheckpointError(file, `holds ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`, name);
  }
  return { name, file, dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin };
}

function checkNoOverlap(file: string, entries: TensorEntry[]): void {
  const sorted = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.byteOffset < prev.byteOffset + prev.byteLength) {
      throw new CheckpointError(file, `data overlaps tensor "${prev.name}"`, cur.name);
    }
  }
}

/** Reads one tensor and widens it to float32. Only this tensor's bytes are read. */
export function readTensorAsFloat32(entry: TensorEntry): Float32Array {
  const raw = readTensorBytes(entry);
  const count = entry.byteLength / DTYPE_BYTES[entry.dtype];
  if (entry.dtype === 'F32') return new Float32Array(raw.buffer, raw.byteOffset, count);
  const out = new Float32Array(count);
  const halves = new Uint16Array(raw.buffer, raw.byteOffset, count);
  if (entry.dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(halves[i]!);
  }
  return out;
}

/** Raw little-endian bytes of one tensor, in a fresh, 4-byte aligned buffer. */
export function readTensorBytes(entry: TensorEntry): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(entry.byteLength));
  const fd = fs.openSync(entry.file, 'r');
  try {
    let done = 0;
    while (done < entry.byteLength) {
      const n = fs.readSync(fd, out, done, entry.byteLength - done, entry.byteOffset + done);
      if (n === 0) throw new CheckpointError(entry.file, `unexpected end of file after ${done} of ${entry.byteLength} bytes`, entry.name);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function dtypeBytes(dtype: WeightDtype): number {
  return DTYPE_BYTES[dtype];
}
