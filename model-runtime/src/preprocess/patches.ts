import { CONFIG_LIMITS } from '../checkpoint/config-limits';
import { UsageError } from '../errors';
import { resizeIntoPatches } from './antialias-resize';
import { IDENTITY, standardization } from './normalize';
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
 * by its 1-based row and column, then zero rows up to maxPatches. The statistics come from
 * the whole image; the standardisation, the resize and the cutting are one pass that writes
 * each resized row straight into its patches (see resizeIntoPatches).
 */
export function extractFlattenedPatches(image: RgbImage, o: PatchOptions): PreprocessedImage {
  if (!Number.isInteger(o.maxPatches) || o.maxPatches < 1) throw new UsageError(`max patches must be a positive integer, got ${o.maxPatches}`);
  // Library callers (settings, batch items) get the bound the CLI flag and the configs get.
  if (o.maxPatches > CONFIG_LIMITS.maxPatches) throw new UsageError(`max patches ${o.maxPatches} is over the limit of ${CONFIG_LIMITS.maxPatches}`);
  const geometry = patchGeometry(image.height, image.width, o);
  const { rows, cols, numPatches } = geometry;
  const depth = 2 + o.patchHeight * o.patchWidth * 3;
  const flattenedPatches = new Float32Array(o.maxPatches * depth); // [maxPatches, depth]
  const norm = o.normalize ? standardization(image) : IDENTITY;
  const layout = { patchHeight: o.patchHeight, patchWidth: o.patchWidth, cols, depth, idColumns: 2 };
  resizeIntoPatches(image, geometry.resizedHeight, geometry.resizedWidth, norm, layout, flattenedPatches);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      flattenedPatches[(r * cols + c) * depth] = r + 1;
      flattenedPatches[(r * cols + c) * depth + 1] = c + 1;
    }
  }
  // transformers marks a row valid when its values sum to non-zero. Padding rows are zero; a
  // real row would need its pixels to cancel its positive ids exactly, which is not worth a
  // pass over every value to detect.
  const attentionMask = new Float32Array(o.maxPatches); // [maxPatches]
  attentionMask.fill(1, 0, numPatches);
  return { ...geometry, maxPatches: o.maxPatches, flattenedPatches, attentionMask };
}
