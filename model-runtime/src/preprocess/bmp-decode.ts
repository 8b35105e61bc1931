import { ImageError } from '../errors';
import { readBmpHeader, type BmpHeader, type ChannelMask } from './bmp-header';
import { ByteCursor, type ByteSource } from './byte-source';
import { checkImageSize } from './image-limits';
import type { RgbImage } from './rgb-image';

/** Uncompressed rows are read this many bytes at a time, so memory stays the decoded image's. */
const READ_BYTES = 8 << 20;

/**
 * Decodes a BMP (sharp has no BMP reader) to 8-bit RGB as Pillow's convert("RGB") does:
 * palettes looked up, 16- and 32-bit pixels unpacked by their masks and scaled to 0..255,
 * alpha dropped. Uncompressed 1/4/8/16/24/32-bit, RLE8 and RLE4; pixels that run-length data
 * skips take palette entry 0, as in Pillow.
 */
export function decodeBmp(source: ByteSource, label: string): RgbImage {
  const header = readBmpHeader(source, label);
  checkImageSize(label, header.width, header.height, { bytesPerPixel: 3, kind: 'a BMP image' });
  const data = new Uint8Array(header.width * header.height * 3); // [height, width, 3]
  if (header.compression === 'rle8' || header.compression === 'rle4') decodeRunLength(source, header, data, label);
  else decodeRows(source, header, data, label);
  return { width: header.width, height: header.height, data };
}

const truncated = (label: string) => new ImageError(label, 'the BMP data ends early: the file is truncated or damaged — re-save or re-download it');

/** Output row of the `fileRow`-th row stored in the file. */
const imageRow = (h: BmpHeader, fileRow: number) => (h.topDown ? fileRow : h.height - 1 - fileRow);

function decodeRows(source: ByteSource, h: BmpHeader, out: Uint8Array, label: string): void {
  const stride = Math.floor((h.bitCount * h.width + 31) / 32) * 4;
  const rowBytes = Math.ceil((h.bitCount * h.width) / 8);
  // The last row's padding may be missing; anything short of that is a truncated file.
  if (h.pixelOffset + stride * (h.height - 1) + rowBytes > source.size) throw truncated(label);
  const unpack = rowUnpacker(h);
  const rowsPerRead = Math.max(1, Math.floor(READ_BYTES / stride));
  for (let first = 0; first < h.height; first += rowsPerRead) {
    const rows = Math.min(rowsPerRead, h.height - first);
    const bytes = source.read(h.pixelOffset + first * stride, rows * stride);
    for (let r = 0; r < rows; r++) {
      if (bytes.length < r * stride + rowBytes) throw truncated(label); // the file shrank while being read
      unpack(bytes.subarray(r * stride, r * stride + rowBytes), out, imageRow(h, first + r) * h.width * 3);
    }
  }
}

type RowUnpacker = (row: Uint8Array, out: Uint8Array, at: number) => void;

function rowUnpacker(h: BmpHeader): RowUnpacker {
  const width = h.width;
  if (h.bitCount <= 8) return paletteRow(h.palette!, h.bitCount, width);
  if (h.bitCount === 24) {
    return (row, out, at) => {
      for (let x = 0; x < width; x++) {
        out[at + x * 3] = row[x * 3 + 2]!;
        out[at + x * 3 + 1] = row[x * 3 + 1]!;
        out[at + x * 3 + 2] = row[x * 3]!;
      }
    };
  }
  const [r, g, b] = h.masks!.map(channelScaler);
  const bytesPerPixel = h.bitCount / 8;
  return (row, out, at) => {
    const view = new DataView(row.buffer, row.byteOffset, row.byteLength);
    for (let x = 0; x < width; x++) {
      const pixel = bytesPerPixel === 2 ? view.getUint16(x * 2, true) : view.getUint32(x * 4, true);
      out[at + x * 3] = r!(pixel);
      out[at + x * 3 + 1] = g!(pixel);
      out[at + x * 3 + 2] = b!(pixel);
    }
  };
}

/** 1-, 4- and 8-bit rows: indices packed most significant bits first, looked up in the palette. */
function paletteRow(palette: Uint8Array, bitCount: number, width: number): RowUnpacker {
  const perByte = 8 / bitCount;
  const mask = (1 << bitCount) - 1;
  return (row, out, at) => {
    for (let x = 0; x < width; x++) {
      const shift = 8 - bitCount * ((x % perByte) + 1);
      const index = (row[Math.floor(x / perByte)]! >> shift) & mask;
      out[at + x * 3] = palette[index * 3]!;
      out[at + x * 3 + 1] = palette[index * 3 + 1]!;
      out[at + x * 3 + 2] = palette[index * 3 + 2]!;
    }
  };
}

/** A channel's value scaled to 0..255 (value * 255 / max, truncated, as Pillow's 5- and 6-bit unpackers do). */
function channelScaler({ mask, shift, max }: ChannelMask): (pixel: number) => number {
  if (max === 0) return () => 0;
  if (max === 255) return (pixel) => ((pixel & mask) >>> shift) & 255;
  if (max <= 0xffff) {
    const table = new Uint8Array(max + 1).map((_, v) => Math.floor((v * 255) / max));
    return (pixel) => table[(pixel & mask) >>> shift]!;
  }
  return (pixel) => Math.floor((((pixel & mask) >>> shift) * 255) / max);
}

/**
 * RLE8 and RLE4: (count, index) runs, absolute runs padded to 16 bits, end of line, end of
 * bitmap and deltas. Runs past the right edge are clipped and deltas past the last row end
 * the image, so no input can write outside it; the work is bounded by the file's bytes plus
 * the image's pixels.
 */
function decodeRunLength(source: ByteSource, h: BmpHeader, out: Uint8Array, label: string): void {
  const palette = h.palette!;
  const rle4 = h.compression === 'rle4';
  fillPixels(out, palette.subarray(0, 3)); // pixels the data skips: entry 0
  const cursor = new ByteCursor(source, h.pixelOffset);
  const next = () => {
    const b = cursor.next();
    if (b < 0) throw truncated(label);
    return b;
  };
  let x = 0;
  let fileRow = 0;
  const put = (index: number) => {
    if (x < h.width) {
      const at = (imageRow(h, fileRow) * h.width + x) * 3;
      out[at] = palette[index * 3]!;
      out[at + 1] = palette[index * 3 + 1]!;
      out[at + 2] = palette[index * 3 + 2]!;
    }
    x++;
  };
  while (fileRow < h.height) {
    const count = next();
    const value = next();
    if (count > 0) {
      const visible = Math.max(0, Math.min(count, h.width - x));
      for (let i = 0; i < visible; i++) put(rle4 ? (i & 1 ? value & 15 : value >> 4) : value);
      x += count - visible;
    } else if (value === 0) {
      x = 0;
      fileRow++;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      x += next();
      fileRow += next();
    } else {
      const bytes = rle4 ? Math.ceil(value / 2) : value;
      let byte = 0;
      for (let i = 0; i < value; i++) {
        if (!rle4) put(next());
        else {
          if ((i & 1) === 0) byte = next();
          put(i & 1 ? byte & 15 : byte >> 4);
        }
      }
      if (bytes & 1) next(); // absolute runs end on a 16-bit boundary
    }
  }
}

/** Every pixel of `out` set to `rgb`, by doubling copies rather than one write per pixel. */
function fillPixels(out: Uint8Array, rgb: Uint8Array): void {
  if (out.length === 0) return;
  out.set(rgb, 0);
  for (let filled = 3; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
}
