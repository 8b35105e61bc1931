import type { Metadata } from 'sharp';
import type { DecodeCost } from './image-limits';

/**
 * Peak memory of decoding with sharp, per pixel, from the header alone: the 3-byte RGB result
 * plus whatever whole-image buffers the format's decoder holds on the way. Measured on 25
 * megapixel images (sharp 0.35, libvips 8.18: peak resident memory over the process's
 * baseline) and rounded up; formats that stream rows cost about 3.5.
 */
export function decodeCost(meta: Metadata): DecodeCost {
  switch (meta.format) {
    case 'jpeg':
      // Progressive JPEG keeps every DCT coefficient (2 bytes per sample of each component) until the last scan.
      return meta.isProgressive ? { bytesPerPixel: 4 + 2.5 * samplesPerPixel(meta), kind: 'a progressive JPEG' } : { bytesPerPixel: 4, kind: 'a JPEG image' };
    case 'png': {
      // Interlaced PNG is decoded whole, in its own channels and depth, before the RGB copy.
      const sampleBytes = meta.depth === 'ushort' ? 2 : 1;
      return meta.isProgressive ? { bytesPerPixel: 4 + (meta.channels ?? 4) * sampleBytes, kind: 'an interlaced PNG' } : { bytesPerPixel: 4, kind: 'a PNG image' };
    }
    case 'gif':
      return { bytesPerPixel: 8, kind: 'a GIF image' };
    case 'webp':
      return { bytesPerPixel: 12, kind: 'a WebP image' };
    case 'heif':
      return { bytesPerPixel: 20, kind: meta.compression === 'av1' ? 'an AVIF image' : 'a HEIF image' };
    case 'tiff':
      return { bytesPerPixel: 4, kind: 'a TIFF image' };
    case 'svg':
      return { bytesPerPixel: 9, kind: 'an SVG image' };
    default:
      return { bytesPerPixel: 12, kind: `a ${String(meta.format).toUpperCase()} image` };
  }
}

/** Samples per pixel over all components, from the chroma subsampling sharp reports. */
function samplesPerPixel(meta: Metadata): number {
  const known: Record<string, number> = { '4:4:4': 3, '4:2:2': 2, '4:4:0': 2, '4:2:0': 1.5, '4:1:1': 1.5, '4:4:4:4': 4 };
  return known[meta.chromaSubsampling ?? ''] ?? meta.channels ?? 4;
}
