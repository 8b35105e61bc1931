import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { ImageError } from '../errors';
import { decodeBmp } from './bmp-decode';
import { bufferSource, fileSource } from './byte-source';
import { decodeCost } from './decode-cost';
import { decodeFailure } from './decode-errors';
import { HEAD_BYTES, readImageHead } from './image-file';
import { checkImageSize, maxImagePixels } from './image-limits';
import type { RgbImage } from './rgb-image';
import { sniffImage, type DecodableFormat } from './sniff-image';

/** SVG is parsed whole, in memory; a larger one is refused rather than handed to the XML parser. */
const MAX_SVG_BYTES = 32 << 20;

/** A safety net for images that are slow to decode by construction (SVG filters), not a size limit. */
const DECODE_TIMEOUT_SECONDS = 60;

/**
 * Decodes an image file or buffer to 8-bit RGB the way PIL's convert("RGB") does for
 * transformers: alpha is dropped, not composited; grey is replicated; no EXIF rotation; the
 * first frame or page of animations and multi-page files.
 *
 * What the bytes are decides, not the file name. Everything that is not a readable image of a
 * size the limits allow (image-limits.ts) is refused before decoding, with one line that says
 * what the file is and what to do. PNG, JPEG, GIF, WebP, TIFF, AVIF and SVG go through sharp
 * (SVG from memory, so it cannot reference other files); BMP has its own reader.
 */
export async function decodeImage(source: string | Buffer, label = typeof source === 'string' ? source : 'image'): Promise<RgbImage> {
  const { head, size } = typeof source === 'string' ? readImageHead(source, label) : bufferHead(source, label);
  const sniffed = sniffImage(head, typeof source === 'string' ? path.basename(source) : '');
  if (sniffed.kind === 'other') throw new ImageError(label, sniffed.reason);
  if (sniffed.format === 'bmp') return decodeBmpSource(source, label);
  return decodeWithSharp(sharpInput(source, sniffed.format, size, label), sniffed.name, label);
}

function bufferHead(source: Buffer, label: string): { head: Buffer; size: number } {
  if (source.length === 0) throw new ImageError(label, 'the image data is empty (0 bytes)');
  return { head: source.subarray(0, HEAD_BYTES), size: source.length };
}

function decodeBmpSource(source: string | Buffer, label: string): RgbImage {
  const bytes = typeof source === 'string' ? fileSource(source) : bufferSource(source);
  try {
    return decodeBmp(bytes, label);
  } finally {
    bytes.close();
  }
}

/** A file path for sharp to read, except SVG, which is read here so that librsvg has no folder to resolve references in. */
function sharpInput(source: string | Buffer, format: DecodableFormat, size: number, label: string): string | Buffer {
  if (format !== 'svg' || typeof source !== 'string') return source;
  if (size > MAX_SVG_BYTES) throw new ImageError(label, `an SVG of ${Math.round(size / 2 ** 20)} MB, over the ${MAX_SVG_BYTES / 2 ** 20} MB this reader renders — convert it to PNG first`);
  return fs.readFileSync(source);
}

async function decodeWithSharp(input: string | Buffer, formatName: string, label: string): Promise<RgbImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // The header alone gives the size and what decoding will cost, so an image over the limits costs no decoding.
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    checkImageSize(label, meta.width ?? 0, meta.height ?? 0, decodeCost(meta));
    decoded = await sharp(input, { limitInputPixels: maxImagePixels(), failOn: 'error' })
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
      // Dropped inside libvips: a 4-band image never exists in memory next to its RGB copy.
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw err instanceof ImageError ? err : decodeFailure(label, formatName, err, typeof input === 'string' ? input : undefined);
  }
  const { width, height, channels } = decoded.info;
  return { width, height, data: toRgb(decoded.data, width * height, channels) };
}

/** libvips already gives 3 bands for every colour image; this covers the rare others (multiband TIFF). */
function toRgb(src: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 3) return new Uint8Array(src.buffer, src.byteOffset, pixels * 3);
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    if (channels <= 2) {
      const g = src[p * channels]!;
      out[p * 3] = g;
      out[p * 3 + 1] = g;
      out[p * 3 + 2] = g;
    } else {
      out[p * 3] = src[p * channels]!;
      out[p * 3 + 1] = src[p * channels + 1]!;
      out[p * 3 + 2] = src[p * channels + 2]!;
    }
  }
  return out;
}
