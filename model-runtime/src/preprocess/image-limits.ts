import { ImageError } from '../errors';

/**
 * Pillow refuses images over this many pixels as decompression bombs (twice its
 * Image.MAX_IMAGE_PIXELS), so transformers cannot process them either.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 178_956_970;

/** Raises (or lowers) the limits, in megapixels, for users who have the memory. */
export const MAX_MEGAPIXELS_ENV = 'PIX2STRUCT_MAX_MEGAPIXELS';

/**
 * Decoding may take this many bytes per pixel of the pixel limit (about 700 MB by default).
 * Most formats decode in 3 to 4 bytes a pixel and meet the pixel limit first; those that hold
 * whole-image buffers while decoding (progressive JPEG, interlaced PNG, GIF, WebP, AVIF, SVG:
 * see decode-cost.ts) meet this one at fewer pixels. The budget leaves room for the previous
 * image's pixels (at most 3 bytes a pixel of the limit, 540 MB), which Node frees only after
 * a garbage collection, so that `batch` too stays under 1.5 GB whatever its images declare.
 */
const BUDGET_BYTES_PER_LIMIT_PIXEL = 4;

/**
 * No side may be longer, whatever the pixel count: the resize keeps a few doubles per input
 * column and per input row (about 64 bytes per column of width), so a 1 x 100,000,000 image
 * would cost gigabytes although it has few pixels. Pix2Struct squeezes a side this long into
 * patches one pixel apart anyway.
 */
export const MAX_IMAGE_SIDE = 1 << 20;

/** What decoding one pixel of an image costs, and what to call such an image in a message. */
export interface DecodeCost {
  bytesPerPixel: number;
  /** "a progressive JPEG", "a WebP image". */
  kind: string;
}

const PLAIN: DecodeCost = { bytesPerPixel: 3, kind: 'an image' };

/** The pixel limit in force: PIX2STRUCT_MAX_MEGAPIXELS when it is a positive number, else Pillow's. */
export function maxImagePixels(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_MEGAPIXELS_ENV]?.trim();
  const megapixels = raw ? Number(raw) : NaN;
  return Number.isFinite(megapixels) && megapixels > 0 ? Math.floor(megapixels * 1e6) : DEFAULT_MAX_IMAGE_PIXELS;
}

/** The most pixels an image of this cost may have: the pixel limit, or fewer where decoding needs more memory. */
function pixelLimitFor(cost: DecodeCost, env: NodeJS.ProcessEnv): number {
  const limit = maxImagePixels(env);
  return Math.min(limit, Math.floor((limit * BUDGET_BYTES_PER_LIMIT_PIXEL) / cost.bytesPerPixel));
}

const megapixels = (pixels: number) => `${Math.round(pixels / 1e5) / 10} megapixels`;

/**
 * Refuses, before anything is decoded, an image whose declared size would cost more memory
 * than the limits allow; the message says which limit and how to raise it.
 */
export function checkImageSize(label: string, width: number, height: number, cost: DecodeCost = PLAIN, env: NodeJS.ProcessEnv = process.env): void {
  if (!(width >= 1 && height >= 1)) throw new ImageError(label, `the image declares a size of ${width}×${height} pixels, which no image can have (the file is damaged)`);
  if (Math.max(width, height) > MAX_IMAGE_SIDE) {
    throw new ImageError(label, `${width}×${height} pixels: a side longer than ${MAX_IMAGE_SIDE} pixels is not supported — crop the image or split it into parts`);
  }
  const pixels = width * height;
  const limit = pixelLimitFor(cost, env);
  if (pixels <= limit) return;
  const memoryBound = limit < maxImagePixels(env);
  // The PIX2STRUCT_MAX_MEGAPIXELS value at which this image would pass.
  const needed = Math.ceil((pixels * Math.max(1, cost.bytesPerPixel / BUDGET_BYTES_PER_LIMIT_PIXEL)) / 1e6);
  const why = memoryBound ? ` for ${cost.kind} (decoding one takes about ${cost.bytesPerPixel} bytes a pixel)` : '';
  throw new ImageError(
    label,
    `${width}×${height} pixels (${megapixels(pixels)}) is over the ${megapixels(limit)} limit${why} — downscale or crop it, ` +
      `or raise the limit with ${MAX_MEGAPIXELS_ENV}=${needed} (decoding needs about ${Math.ceil((pixels * cost.bytesPerPixel) / 2 ** 20)} MB)`,
  );
}
