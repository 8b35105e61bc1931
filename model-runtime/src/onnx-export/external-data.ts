/**
 * The external-data files an ONNX graph references (the "location" entry of a TensorProto's
 * external_data), read from the protobuf wire format directly. Only messages that can hold
 * tensors are entered (initializers, node attributes, the subgraphs of If/Loop nodes that merged
 * decoders keep their weights in); everything else, tensor bytes included, is skipped by seeking,
 * so a 2 GB graph with inline weights costs a few small reads instead of being loaded.
 */
import * as fs from 'node:fs';
import { CheckpointError } from '../errors';

type Kind = 'model' | 'graph' | 'node' | 'attribute' | 'function' | 'sparse' | 'tensor';

/** Field numbers (onnx.proto) of the sub-messages worth entering, per message kind. */
const CHILDREN: Record<Kind, Partial<Record<number, Kind>>> = {
  model: { 7: 'graph', 25: 'function' }, // graph, functions
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' }, // node, initializer, sparse_initializer
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' }, // t, g, tensors, graphs, sparse_tensor(s)
  function: { 7: 'node' },
  sparse: { 1: 'tensor', 2: 'tensor' }, // values, indices
  tensor: {},
};
const TENSOR_EXTERNAL_DATA = 13;

/** Positioned reads through one small window, so skipping far ahead costs nothing. */
class FileReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  byteAt(pos: number): number {
    if (pos < this.windowStart || pos >= this.windowStart + this.window.length) {
      const length = Math.min(64 * 1024, this.size - pos);
      if (length <= 0) throw new RangeError('truncated');
      this.window = Buffer.alloc(length);
      fs.readSync(this.fd, this.window, 0, length, pos);
      this.windowStart = pos;
    }
    return this.window[pos - this.windowStart]!;
  }

  bytes(pos: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    if (length > 0 && fs.readSync(this.fd, out, 0, length, pos) !== length) throw new RangeError('truncated');
    return out;
  }

  /** A varint and the position after it; lengths may pass 2^31, so no 32-bit shifts. */
  varint(pos: number): [number, number] {
    let value = 0;
    for (let i = 0, scale = 1; i < 10; i++, scale *= 128) {
      const byte = this.byteAt(pos + i);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return [value, pos + i + 1];
    }
    throw new RangeError('varint longer than 10 bytes');
  }
}

/** A StringStringEntryProto's key (field 1) and value (field 2). */
function readEntry(r: FileReader, start: number, end: number): { key: string; value: string } {
  const entry = { key: '', value: '' };
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = r.varint(pos);
    if (tag % 8 !== 2) throw new RangeError('external_data entry with a non-string field');
    const [length, body] = r.varint(afterTag);
    const text = r.bytes(body, length).toString('utf8');
    if (Math.floor(tag / 8) === 1) entry.key = text;
    else if (Math.floor(tag / 8) === 2) entry.value = text;
    pos = body + length;
  }
  return entry;
}

function walk(r: FileReader, start: number, end: number, kind: Kind, out: Set<string>): void {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = r.varint(pos);
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0:
        pos = r.varint(afterTag)[1];
        break;
      case 1:
        pos = afterTag + 8;
        break;
      case 5:
        pos = afterTag + 4;
        break;
      case 2: {
        const [length, body] = r.varint(afterTag);
        pos = body + length;
        if (pos > end) throw new RangeError('a field runs past its message');
        if (kind === 'tensor' && field === TENSOR_EXTERNAL_DATA) {
          const { key, value } = readEntry(r, body, pos);
          if (key === 'location') out.add(value);
        } else {
          const child = CHILDREN[kind][field];
          if (child) walk(r, body, pos, child, out);
        }
        break;
      }
      default:
        throw new RangeError(`wire type ${tag % 8} (groups are not used by ONNX)`);
    }
  }
  if (pos !== end) throw new RangeError('a field runs past its message');
}

/**
 * The external-data locations `file` references, as written in the graph (relative to the
 * graph's folder), sorted. Throws a CheckpointError when the file is not a readable ONNX model.
 */
export function externalDataLocations(file: string): string[] {
  const out = new Set<string>();
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new CheckpointError(file, `cannot be read: ${(err as Error).message}`);
  }
  try {
    const reader = new FileReader(fd, fs.fstatSync(fd).size);
    walk(reader, 0, reader.size, 'model', out);
  } catch (err) {
    if (err instanceof RangeError) throw new CheckpointError(file, `not a valid ONNX model file (${err.message})`);
    throw err;
  } finally {
    fs.closeSync(fd);
  }
  return [...out].sort();
}

/**
 * Whether a location stays inside the graph's folder: onnxruntime resolves it against that folder,
 * and a graph from the network must not point a download or a load anywhere else.
 */
export function isSafeLocation(location: string): boolean {
  const parts = location.split('/');
  return location !== '' && !location.startsWith('/') && !location.includes('\\') && !/^[A-Za-z]:/.test(location) && !parts.some((p) => p === '' || p === '.' || p === '..');
}
