import type { RgbImage } from './rgb-image';

const f32 = Math.fround;

/**
 * Per-image standardisation (TensorFlow's per_image_standardization, as transformers does
 * it): mean and population std over every value of the whole image, std floored at
 * 1/sqrt(N), then (x - mean) / std in float32. Output is planar [3, H, W] for the resizer.
 */
export function standardize(image: RgbImage): Float32Array {
  const { width, height, data } = image;
  const n = data.length;
  // 8-bit input: a histogram gives the exact mean and variance in 256 steps, and every
  // output value is one of 256, so the division happens once per level, not per pixel.
  const counts = new Float64Array(256);
  for (let i = 0; i < n; i++) counts[data[i]!]!++;
  let sum = 0;
  for (let v = 0; v < 256; v++) sum += v * counts[v]!;
  const mean = sum / n;
  let sq = 0;
  for (let v = 0; v < 256; v++) sq += counts[v]! * (v - mean) * (v - mean);
  const std = Math.max(Math.sqrt(sq / n), 1 / Math.sqrt(n));
  const mean32 = f32(mean);
  const std32 = f32(std);
  const level = new Float32Array(256);
  for (let v = 0; v < 256; v++) level[v] = f32(v - mean32) / std32;
  const plane = width * height;
  const out = new Float32Array(n); // [3, H, W]
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let p = 0; p < plane; p++) out[base + p] = level[data[p * 3 + c]!]!;
  }
  return out;
}

/** Without normalisation the processor still feeds float pixel values, planar [3, H, W]. */
export function toPlanarFloat(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = image.data[p * 3 + c]!;
  return out;
}
