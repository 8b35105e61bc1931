import * as fs from 'node:fs';
import sharp, { type OutputInfo } from 'sharp';
import { ImageError } from '../errors';
import type { RgbImage } from './rgb-image';

/** Larger images are refused before decoding: 16k x 16k RGB is already 768 MB of pixels. */
export const MAX_IMAGE_PIXELS = 16384 * 16384;

/**
 * Decodes any image sharp reads (png, jpeg, webp, gif, tiff, avif, svg) to 8-bit RGB the way
 * PIL's convert("RGB") does for transformers: alpha is dropped, not composited; grey is
 * replicated; no EXIF rotation.
 */
export async function decodeImage(source: string | Buffer, label = typeof source === 'string' ? source : 'image'): Promise<RgbImage> {
  if (typeof source === 'string' && !fs.existsSync(source)) throw new ImageError(label, 'file not found');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(source, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const reason = (err as Error).message;
    const tooBig = /pixel limit/i.test(reason);
    throw new ImageError(
      label,
      tooBig ? `image is larger than ${MAX_IMAGE_PIXELS} pixels; crop or downscale it first` : `cannot be decoded as an image (${reason})`,
      { cause: err },
    );
  }
  const { width, height, channels } = decoded.info;
  return { width, height, data: toRgb(decoded.data, width * height, channels) };
}

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
