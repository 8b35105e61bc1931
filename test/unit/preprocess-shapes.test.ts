import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractFlattenedPatches, type PatchOptions } from '../../model-runtime/src/preprocess/patches';
import type { RgbImage } from '../../model-runtime/src/preprocess/rgb-image';

/*
 * The fast path (statistics from byte sums, standardisation applied after a resize that reads
 * the 8-bit pixels, 32-bit loads at any alignment, rows in pairs, straight into the patch
 * layout) against the algorithm written the plain way, in float32 as transformers runs it,
 * on shapes the transformers fixture does not cover. The fixture stays the ground truth for
 * parity with transformers itself (preprocess-parity.test.ts).
 */

const f32 = Math.fround;

/**
 * The reference rounds every step to float32 and the fast path does not, so they differ by
 * a few float32 ulp (2.3e-7 relative at worst when this was written); 2e-6 leaves room for
 * that and still catches a standardisation that ignores the weights' own sum.
 */
function tolerance(expected: number): number {
  return 2e-6 * Math.max(1, Math.abs(expected));
}

/** Per-image standardisation on the whole image, planar [3, H, W] float32. */
function referenceStandardize(image: RgbImage, normalize: boolean): Float32Array {
  const { width, height, data } = image;
  const n = data.length;
  let mean = 0;
  let std = 1;
  if (normalize) {
    let sum = 0;
    for (const v of data) sum += v;
    mean = sum / n;
    let sq = 0;
    for (const v of data) sq += (v - mean) * (v - mean);
    std = Math.max(Math.sqrt(sq / n), 1 / Math.sqrt(n));
  }
  const planar = new Float32Array(n); // [3, H, W]
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) planar[c * width * height + p] = f32(f32(data[p * 3 + c]! - f32(mean)) / f32(std));
  }
  return planar;
}

/** torch's antialiased bilinear weights (align_corners=False) for one output sample, float32. */
function referenceTaps(inSize: number, outSize: number, i: number): { first: number; weights: number[] } {
  const scale = f32(inSize / outSize);
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const center = f32(scale * f32(i + 0.5));
  const first = Math.max(Math.trunc(f32(f32(center - support) + 0.5)), 0);
  const last = Math.min(Math.trunc(f32(f32(center + support) + 0.5)), inSize);
  const weights: number[] = [];
  for (let x = first; x < last; x++) {
    const d = Math.abs(f32(f32(f32(x) - center + 0.5) * invScale));
    weights.push(d < 1 ? f32(1 - d) : 0);
  }
  const total = weights.reduce((a, b) => f32(a + b), 0);
  return { first, weights: total === 0 ? weights : weights.map((w) => f32(w / total)) };
}

/** One axis of the resize over a [outer, size, inner] float32 array. */
function referenceResizeAxis(src: Float32Array, outer: number, size: number, inner: number, outSize: number): Float32Array {
  if (outSize === size) return src;
  const dst = new Float32Array(outer * outSize * inner); // [outer, outSize, inner]
  for (let i = 0; i < outSize; i++) {
    const { first, weights } = referenceTaps(size, outSize, i);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        let acc = 0;
        weights.forEach((w, j) => (acc = f32(acc + f32(w * src[(o * size + first + j) * inner + k]!))));
        dst[(o * outSize + i) * inner + k] = acc;
      }
    }
  }
  return dst;
}

/** Pix2StructImageProcessor.extract_flattened_patches, step by step. */
function referencePatches(image: RgbImage, o: PatchOptions) {
  const { patchHeight: ph, patchWidth: pw, maxPatches } = o;
  const scale = Math.sqrt(maxPatches * (ph / image.height) * (pw / image.width));
  const rows = Math.max(Math.min(Math.floor((scale * image.height) / ph), maxPatches), 1);
  const cols = Math.max(Math.min(Math.floor((scale * image.width) / pw), maxPatches), 1);
  const [rh, rw] = [rows * ph, cols * pw];
  const planar = referenceStandardize(image, o.normalize); // [3, H, W]
  const wide = referenceResizeAxis(planar, 3 * image.height, image.width, 1, rw); // [3, H, rw]
  const resized = referenceResizeAxis(wide, 3, image.height, rw, rh); // [3, rh, rw]
  const depth = 2 + ph * pw * 3;
  const patches = new Float32Array(maxPatches * depth); // [maxPatches, depth]
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const row = (r * cols + c) * depth;
      patches[row] = r + 1;
      patches[row + 1] = c + 1;
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          for (let ch = 0; ch < 3; ch++) patches[row + 2 + (y * pw + x) * 3 + ch] = resized[(ch * rh + r * ph + y) * rw + c * pw + x]!;
        }
      }
    }
  }
  const mask = new Float32Array(maxPatches); // [maxPatches]
  for (let p = 0; p < maxPatches; p++) mask[p] = patches.subarray(p * depth, (p + 1) * depth).some((v) => v !== 0) ? 1 : 0;
  return { rows, cols, patches, mask };
}

/** Deterministic pixels; `offset` places them at that byte offset of their buffer. */
function makeImage(width: number, height: number, pixel: (x: number, y: number, c: number) => number, offset = 0): RgbImage {
  const data = new Uint8Array(new ArrayBuffer(offset + width * height * 3), offset, width * height * 3); // [height, width, 3]
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = pixel(x, y, c);
  return { width, height, data };
}

function noise(seed: number): (x: number, y: number, c: number) => number {
  return (x, y, c) => {
    let h = Math.imul(x + 1, 73856093) ^ Math.imul(y + 1, 19349663) ^ Math.imul(c + 1, 83492791) ^ seed;
    h = Math.imul(h ^ (h >>> 15), 2246822519);
    return (h ^ (h >>> 13)) & 255;
  };
}

const smooth = (x: number, y: number, c: number) => Math.round(127 + 100 * Math.sin(x / 7 + c) * Math.cos(y / 5 - c));

const options = (maxPatches: number, extra: Partial<PatchOptions> = {}): PatchOptions => ({ maxPatches, patchHeight: 16, patchWidth: 16, normalize: true, ...extra });

const CASES: [string, RgbImage, PatchOptions][] = [
  ['odd sizes, downscaled', makeImage(123, 77, noise(1)), options(6)],
  ['odd sizes, upscaled', makeImage(37, 23, noise(2)), options(40)],
  ['downscaled one way, upscaled the other', makeImage(301, 9, smooth), options(12)],
  ['strong downscale (more than four taps a side)', makeImage(700, 500, noise(3)), options(4)],
  ['width kept, height resized', makeImage(64, 40, noise(4)), options(8)],
  ['size kept', makeImage(48, 32, noise(5)), options(6)],
  ['1 pixel wide', makeImage(1, 50, noise(6)), options(16)],
  ['1 pixel high', makeImage(50, 1, noise(7)), options(16)],
  ['1x1', makeImage(1, 1, noise(8)), options(3)],
  ['grey (std floored, all values 0)', makeImage(40, 30, () => 128), options(10)],
  ['low contrast (mean/std large: the weights not summing to 1 shows)', makeImage(97, 61, (x, y, c) => 250 + (noise(13)(x, y, c) % 6)), options(5)],
  ['two levels', makeImage(60, 45, (x, y) => (x === 3 && y === 7 ? 255 : 0)), options(10)],
  ['max_patches 1', makeImage(90, 70, noise(9)), options(1)],
  ['pixels at an odd byte offset, 3 * width not a multiple of 4', makeImage(31, 29, noise(10), 1), options(9)],
  ['not normalised', makeImage(45, 33, smooth), options(7, { normalize: false })],
  ['other patch shape', makeImage(57, 41, noise(11)), options(20, { patchHeight: 4, patchWidth: 8 })],
];

describe('preprocessing fast path against the plain float32 algorithm', () => {
  for (const [name, image, o] of CASES) {
    test(`${name}: ${image.width}x${image.height}, max_patches ${o.maxPatches}`, () => {
      const got = extractFlattenedPatches(image, o);
      const want = referencePatches(image, o);
      assert.deepEqual({ rows: got.rows, cols: got.cols }, { rows: want.rows, cols: want.cols });
      assert.equal(got.flattenedPatches.length, want.patches.length);
      const bad = want.patches.findIndex((v, i) => !(Math.abs(got.flattenedPatches[i]! - v) <= tolerance(v)));
      assert.equal(bad, -1, `value ${bad}: got ${got.flattenedPatches[bad]}, want ${want.patches[bad]}`);
      assert.deepEqual(Array.from(got.attentionMask), Array.from(want.mask));
    });
  }

  test('the pixels are read, not changed', () => {
    const image = makeImage(33, 21, noise(12), 3);
    const before = image.data.slice();
    extractFlattenedPatches(image, options(5));
    assert.deepEqual(image.data, before);
  });
});
