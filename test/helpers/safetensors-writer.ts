import * as fs from 'node:fs';

export interface RawTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/**
 * Writes a safetensors file; `headerOverrides` patches header entries after layout so
 * tests can produce files that lie about offsets or shapes.
 */
export function writeSafetensors(
  file: string,
  tensors: Map<string, RawTensor>,
  headerOverrides: Record<string, Record<string, unknown>> = {},
): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength], ...headerOverrides[name] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad so the data starts 8-byte aligned, as the reference writer does.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, prefix);
    fs.writeSync(fd, json);
    for (const t of tensors.values()) fs.writeSync(fd, t.data);
  } finally {
    fs.closeSync(fd);
  }
}
