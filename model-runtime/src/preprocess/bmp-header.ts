import { ImageError } from '../errors';
import type { ByteSource } from './byte-source';

/** A colour channel packed in a 16- or 32-bit pixel: value = (pixel & mask) >>> shift, 0..max. */
export interface ChannelMask {
  mask: number;
  shift: number;
  max: number;
}

export interface BmpHeader {
  width: number;
  height: number;
  /** Rows are stored top first (a negative height in the file); bottom first otherwise. */
  topDown: boolean;
  bitCount: 1 | 4 | 8 | 16 | 24 | 32;
  compression: 'none' | 'rle8' | 'rle4' | 'bitfields';
  /** Where the pixel data starts in the file. */
  pixelOffset: number;
  /** RGB triplets for 1-, 4- and 8-bit images, 2^bitCount entries (those the file lacks are black). */
  palette: Uint8Array | null;
  /** Red, green and blue masks of 16- and 32-bit pixels. */
  masks: [ChannelMask, ChannelMask, ChannelMask] | null;
}

const FILE_HEADER = 14;
const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

/** 5-5-5 and 8-8-8 are what 16- and 32-bit pixels mean without explicit masks. */
const DEFAULT_MASKS: Record<16 | 32, [number, number, number]> = {
  16: [0x7c00, 0x03e0, 0x001f],
  32: [0xff0000, 0x00ff00, 0x0000ff],
};

/**
 * Parses the file and info headers of a Windows or OS/2 bitmap (core, OS/2 2.x, and
 * BITMAPINFOHEADER through V5), its masks and palette. Refuses, with the reason, anything
 * this reader cannot decode; sizes are checked by the caller before any pixel is read.
 */
export function readBmpHeader(source: ByteSource, label: string): BmpHeader {
  const fixed = source.read(0, FILE_HEADER + 124 + 16);
  const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const damaged = (why: string) => new ImageError(label, `a damaged BMP file (${why}) — re-save or re-download it`);
  if (fixed.length < FILE_HEADER + 4) throw damaged('the file ends inside its header');
  const infoSize = view.getUint32(14, true);
  if (fixed.length < FILE_HEADER + Math.min(infoSize, 124)) throw damaged('the file ends inside its header');
  const core = infoSize === 12;
  const os2 = infoSize === 16 || infoSize === 64;
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getUint16(20, true) : view.getInt32(22, true);
  const bitCount = view.getUint16(core ? 24 : 28, true);
  const compressionCode = infoSize >= 20 ? view.getUint32(30, true) : BI_RGB;
  const colorsUsed = infoSize >= 36 ? view.getUint32(46, true) : 0;

  const compression = compressionOf(compressionCode, bitCount, os2, label);
  if (![1, 4, 8, 16, 24, 32].includes(bitCount)) throw new ImageError(label, `a BMP with ${bitCount} bits per pixel, which this reader does not support — re-save it as PNG`);
  // Masks follow a 40-byte header; larger headers hold them in their own fields at the same place.
  const explicitMasks = compressionCode === BI_BITFIELDS || compressionCode === BI_ALPHABITFIELDS;
  const maskBytes = infoSize === 40 && explicitMasks ? (compressionCode === BI_ALPHABITFIELDS ? 16 : 12) : 0;
  let masks: BmpHeader['masks'] = null;
  if (bitCount === 16 || bitCount === 32) {
    if (explicitMasks && fixed.length < FILE_HEADER + 40 + 12) throw damaged('the file ends inside its colour masks');
    const raw = explicitMasks ? [0, 4, 8].map((o) => view.getUint32(FILE_HEADER + 40 + o, true)) : DEFAULT_MASKS[bitCount];
    masks = raw.map((m) => channelMask(m, label)) as [ChannelMask, ChannelMask, ChannelMask];
  }

  const paletteStart = FILE_HEADER + infoSize + maskBytes;
  const entrySize = core ? 3 : 4;
  const paletteCount = bitCount <= 8 ? (colorsUsed > 0 ? Math.min(colorsUsed, 1 << bitCount) : 1 << bitCount) : 0;
  const palette = bitCount <= 8 ? readPalette(source, paletteStart, entrySize, paletteCount, bitCount) : null;
  let pixelOffset = view.getUint32(10, true);
  // Some writers leave the offset zero: the pixels then follow the palette.
  if (pixelOffset === 0) pixelOffset = paletteStart + paletteCount * entrySize;
  if (pixelOffset >= source.size) throw damaged('the pixel data is missing: the file ends before it starts');
  return { width, height: Math.abs(rawHeight), topDown: rawHeight < 0, bitCount: bitCount as BmpHeader['bitCount'], compression, pixelOffset, palette, masks };
}

function compressionOf(code: number, bitCount: number, os2: boolean, label: string): BmpHeader['compression'] {
  const unsupported = (what: string) => new ImageError(label, `a BMP with ${what}, which this reader does not support — re-save it as PNG`);
  if (code === BI_RGB) return 'none';
  if (code === BI_RLE8 && bitCount === 8) return 'rle8';
  if (code === BI_RLE4 && bitCount === 4) return 'rle4';
  if (os2) throw unsupported(`OS/2 compression ${code === 3 ? '(Huffman)' : code === 4 ? '(RLE24)' : code}`);
  if ((code === BI_BITFIELDS || code === BI_ALPHABITFIELDS) && (bitCount === 16 || bitCount === 32)) return 'bitfields';
  if (code === BI_JPEG || code === BI_PNG) throw unsupported(`an embedded ${code === BI_JPEG ? 'JPEG' : 'PNG'} image`);
  throw unsupported(`compression type ${code} at ${bitCount} bits per pixel`);
}

/** A mask must be one run of set bits (it may be empty: that channel is then 0). */
function channelMask(mask: number, label: string): ChannelMask {
  if (mask === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  if ((max & (max + 1)) !== 0) throw new ImageError(label, `a BMP with a colour mask (0x${(mask >>> 0).toString(16)}) that is not one run of bits — re-save it as PNG`);
  return { mask: mask >>> 0, shift, max };
}

/** The palette as RGB triplets, always 2^bitCount entries so that any index is safe. */
function readPalette(source: ByteSource, start: number, entrySize: number, count: number, bitCount: number): Uint8Array {
  const raw = source.read(start, count * entrySize);
  const palette = new Uint8Array((1 << bitCount) * 3); // [2^bitCount, 3]; entries the file lacks stay black
  for (let i = 0; i < Math.floor(raw.length / entrySize); i++) {
    palette[i * 3] = raw[i * entrySize + 2]!;
    palette[i * 3 + 1] = raw[i * entrySize + 1]!;
    palette[i * 3 + 2] = raw[i * entrySize]!;
  }
  return palette;
}
