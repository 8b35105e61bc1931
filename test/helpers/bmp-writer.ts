/**
 * Writes BMP files for tests, from the format's documentation rather than from any decoder:
 * core (12-byte) and 40/108/124-byte info headers, 1/4/8-bit palettes, 16/24/32-bit pixels
 * with default or explicit masks, RLE8 and RLE4, bottom-up or top-down rows.
 */
export interface BmpSpec {
  width: number;
  height: number;
  bitCount: 1 | 4 | 8 | 16 | 24 | 32;
  /** Top row first. 1/4/8-bit: one palette index per pixel; 16/32-bit: one packed pixel value; 24-bit: RGB triplets. */
  pixels: ArrayLike<number>;
  /** RGB triplets, for 1/4/8-bit images. */
  palette?: [number, number, number][];
  compression?: 'none' | 'rle8' | 'rle4' | 'bitfields';
  /** Red, green, blue masks for 'bitfields'. */
  masks?: [number, number, number];
  infoSize?: 12 | 40 | 108 | 124;
  topDown?: boolean;
  /** Replaces the generated pixel data (hand-made run-length streams). */
  rawPixelData?: Uint8Array;
}

const COMPRESSION = { none: 0, rle8: 1, rle4: 2, bitfields: 3 } as const;

export function encodeBmp(spec: BmpSpec): Buffer {
  const infoSize = spec.infoSize ?? 40;
  const compression = spec.compression ?? 'none';
  const core = infoSize === 12;
  const palette = spec.palette ?? [];
  const entry = core ? 3 : 4;
  const masksAfterHeader = compression === 'bitfields' && infoSize === 40 ? 12 : 0;
  const pixelData = spec.rawPixelData ?? (compression === 'rle8' || compression === 'rle4' ? runLength(spec, compression) : rows(spec));
  const pixelOffset = 14 + infoSize + masksAfterHeader + palette.length * entry;
  const file = Buffer.alloc(pixelOffset + pixelData.length);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(pixelOffset, 10);
  file.writeUInt32LE(infoSize, 14);
  if (core) {
    file.writeUInt16LE(spec.width, 18);
    file.writeUInt16LE(spec.height, 20);
    file.writeUInt16LE(1, 22);
    file.writeUInt16LE(spec.bitCount, 24);
  } else {
    file.writeInt32LE(spec.width, 18);
    file.writeInt32LE(spec.topDown ? -spec.height : spec.height, 22);
    file.writeUInt16LE(1, 26);
    file.writeUInt16LE(spec.bitCount, 28);
    file.writeUInt32LE(COMPRESSION[compression], 30);
    file.writeUInt32LE(pixelData.length, 34);
    file.writeUInt32LE(2835, 38); // 72 dpi
    file.writeUInt32LE(2835, 42);
    file.writeUInt32LE(palette.length, 46);
    if (compression === 'bitfields') spec.masks!.forEach((m, i) => file.writeUInt32LE(m >>> 0, 54 + i * 4));
    if (infoSize >= 108) file.write('BGRs', 14 + 56, 'latin1'); // colour space: sRGB
  }
  palette.forEach(([r, g, b], i) => {
    const at = 14 + infoSize + masksAfterHeader + i * entry;
    file[at] = b;
    file[at + 1] = g;
    file[at + 2] = r;
  });
  file.set(pixelData, pixelOffset);
  return file;
}

/** Uncompressed rows, each padded to 4 bytes, bottom row first unless top-down. */
function rows(spec: BmpSpec): Uint8Array {
  const stride = Math.floor((spec.bitCount * spec.width + 31) / 32) * 4;
  const out = Buffer.alloc(stride * spec.height);
  for (let y = 0; y < spec.height; y++) {
    const at = (spec.topDown ? y : spec.height - 1 - y) * stride;
    for (let x = 0; x < spec.width; x++) writePixel(spec, out, at, x, y);
  }
  return out;
}

function writePixel(spec: BmpSpec, out: Buffer, rowStart: number, x: number, y: number): void {
  const p = y * spec.width + x;
  if (spec.bitCount === 24) {
    out[rowStart + x * 3] = spec.pixels[p * 3 + 2]!;
    out[rowStart + x * 3 + 1] = spec.pixels[p * 3 + 1]!;
    out[rowStart + x * 3 + 2] = spec.pixels[p * 3]!;
  } else if (spec.bitCount === 16) {
    out.writeUInt16LE(spec.pixels[p]!, rowStart + x * 2);
  } else if (spec.bitCount === 32) {
    out.writeUInt32LE(spec.pixels[p]! >>> 0, rowStart + x * 4);
  } else {
    const perByte = 8 / spec.bitCount;
    const shift = 8 - spec.bitCount * ((x % perByte) + 1);
    out[rowStart + Math.floor(x / perByte)] |= spec.pixels[p]! << shift;
  }
}

/**
 * RLE8/RLE4: per row, runs of equal indices as (count, index) pairs and stretches of differing
 * ones in absolute mode (at least 3 pixels, padded to 16 bits); end of line after each row,
 * end of bitmap after the last. Rows bottom first.
 */
function runLength(spec: BmpSpec, mode: 'rle8' | 'rle4'): Uint8Array {
  const bytes: number[] = [];
  for (let y = spec.height - 1; y >= 0; y--) {
    const row = Array.from({ length: spec.width }, (_, x) => spec.pixels[y * spec.width + x]!);
    let x = 0;
    while (x < row.length) {
      let run = 1;
      while (x + run < row.length && run < 255 && row[x + run] === row[x]) run++;
      if (run >= 2 || row.length - x < 3) {
        const n = Math.min(run, row.length - x);
        bytes.push(n, mode === 'rle8' ? row[x]! : (row[x]! << 4) | row[x]!);
        x += n;
        continue;
      }
      let n = 3; // absolute mode until the next repeat, at most 255 pixels
      while (x + n < row.length && n < 255 && row[x + n] !== row[x + n - 1]) n++;
      const literal = row.slice(x, x + n);
      bytes.push(0, n);
      const packed = mode === 'rle8' ? literal : pairs(literal);
      bytes.push(...packed);
      if (packed.length % 2) bytes.push(0);
      x += n;
    }
    bytes.push(0, 0);
  }
  bytes.push(0, 1);
  return Uint8Array.from(bytes);
}

const pairs = (indices: number[]) => Array.from({ length: Math.ceil(indices.length / 2) }, (_, i) => (indices[i * 2]! << 4) | (indices[i * 2 + 1] ?? 0));
