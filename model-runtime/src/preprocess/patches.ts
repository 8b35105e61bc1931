import { UsageError } from '../errors';
import { resizeBilinearAntialias } from './antialias-resize';
import { standardize, toPlanarFloat } from './normalize';
import type { RgbImage } from './rgb-image';

export interface PatchGeometry {
  rows: number;
  cols: number;
  resizedHeight: number;
  resizedWidth: number;
  numPatches: number;
}

/** What the encoder consumes for one image. */
export interface PreprocessedImage extends PatchGeometry {
  maxPatches: number;
  flattenedPatches: Float32Array; // [maxPatches, 2 + ph*pw*3]
  attentionMask: Float32Array; // [maxPatches]
}

export interface PatchOptions {
  maxPatches: number;
  patchHeight: number;
  patchWidth: number;
  normalize: boolean;
}

/** The largest aspect-preserving grid of patches that fits in `maxPatches`. */
export function patchGeometry(height: number, width: number, o: Pick<PatchOptions, 'maxPatches' | 'patchHeight' | 'patchWidth'>): PatchGeometry {
  const scale = Math.sqrt(o.maxPatches * (o.patchHeight / height) * (o.patchWidth / width));
  const rows = Math.max(Math.min(Math.floor((scale * height) / o.patchHeight), o.maxPatches), 1);
  const cols = Math.max(Math.min(Math.floor((scale * width) / o.patchWidth), o.maxPatches), 1);
  return { rows, cols, resizedHeight: rows * o.patchHeight, resizedWidth: cols * o.patchWidth, numPatches: rows * cols };
}

/**
 * Pix2StructImageProcessor.extract_flattened_patches: standardise the whole image, resize to
 * the patch grid, cut patches row-major, each flattened as (y * pw + x) * 3 + c and prefixed
 * by its 1-based row and column, then zero rows up to maxPatches.
 */
export function extractFlattenedPatches(image: RgbImage, o: PatchOptions): PreprocessedImage {
  if (!Number.isInteger(o.maxPatches) || o.maxPatches < 1) throw new UsageError(`max patches must be a positive integer, got ${o.maxPatches}`);
  const geometry = patchGeometry(image.height, image.width, o);
  const { rows, cols, resizedHeight: rh, resizedWidth: rw } = geometry;
  const planar = o.normalize ? standardize(image) : toPlanarFloat(image); // [3, H, W]
  const resized = resizeBilinearAntialias(planar, 3, image.height, image.width, rh, rw); // [3, rh, rw]
  const { patchHeight: ph, patchWidth: pw } = o;
  const depth = 2 + ph * pw * 3;
  const flattenedPatches = new Float32Array(o.maxPatches * depth); // [maxPatches, depth]
  const attentionMask = new Float32Array(o.maxPatches); // [maxPatches]
  const plane = rh * rw;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const row = (r * cols + c) * depth;
      flattenedPatches[row] = r + 1;
      flattenedPatches[row + 1] = c + 1;
      let k = row + 2;
      for (let y = 0; y < ph; y++) {
        const src = (r * ph + y) * rw + c * pw;
        for (let x = 0; x < pw; x++) {
          for (let ch = 0; ch < 3; ch++) flattenedPatches[k++] = resized[ch * plane + src + x]!;
        }
      }
    }
  }
  // transformers marks a row valid when its values sum to non-zero; real rows start at id 1.
  for (let p = 0; p < o.maxPatches; p++) {
    let sum = 0;
    for (let k = p * depth; k < (p + 1) * depth; k++) sum += flattenedPatches[k]!;
    attentionMask[p] = sum !== 0 ? 1 : 0;
  }
  return { ...geometry, maxPatches: o.maxPatches, flattenedPatches, attentionMask };
}
