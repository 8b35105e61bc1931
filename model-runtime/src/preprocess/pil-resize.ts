import type { RgbImage } from './rgb-image';

/**
 * Pillow 9.4's `Image.resize(size)` for an RGB image, whose default filter is BICUBIC.
 *
 * transformers resizes the VQA header and the image with it, so the result has to match
 * byte for byte: Pillow computes the filter weights in double precision, turns them into
 * fixed-point integers and accumulates in integers, so any float shortcut here drifts by
 * one grey level on some pixels. The work is a horizontal pass then a vertical pass, and
 * Pillow skips a pass when that dimension does not change (which is not a no-op: the
 * kernel would still blur).
 */
export function resizePilBicubic(image: RgbImage, width: number, height: number): RgbImage {
  checkSize(width, height);
  checkImage(image);
  if (width === image.width && height === image.height) {
    return { width, height, data: image.data.slice() };
  }
  let current = image;
  if (width !== image.width) current = resampleRows(current, fixedPointWeights(image.width, width));
  if (height !== image.height) current = resampleColumns(current, fixedPointWeights(image.height, height));
  return current;
}

/** Pillow keeps 8 bits for the pixel, 2 of headroom for the sum and the rest for the weight. */
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

/** Keys' cubic with a = -0.5, the kernel Pillow calls BICUBIC; it reaches 2 pixels out. */
const BICUBIC_SUPPORT = 2;
function bicubic(t: number): number {
  const a = -0.5;
  const x = Math.abs(t);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** For each output pixel along one axis: the first input pixel it reads and its integer weights. */
interface AxisWeights {
  taps: number; // weights stored per output pixel (some trailing ones may be unused)
  first: Int32Array; // first input index
  count: Int32Array; // how many input pixels contribute
  weights: Int32Array; // [outSize * taps], fixed point with PRECISION_BITS fraction bits
}

function fixedPointWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  // Downscaling widens the kernel so that every input pixel is covered; upscaling does not narrow it.
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const row = new Float64Array(taps);
  // Multiplying by the reciprocal (not dividing) keeps the same double rounding as Pillow.
  const inverseScale = 1 / filterScale;
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    // Pillow rounds the window ends by adding 0.5 and truncating, then clamps to the image.
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = hi - lo;
    let total = 0;
    for (let i = 0; i < n; i++) {
      row[i] = bicubic((i + lo - center + 0.5) * inverseScale);
      total += row[i]!;
    }
    for (let i = 0; i < n; i++) {
      const w = total !== 0 ? row[i]! / total : row[i]!;
      // Round half away from zero, as a C cast of w * ONE +/- 0.5 does.
      weights[out * taps + i] = Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5);
    }
    first[out] = lo;
    count[out] = n;
  }
  return { taps, first, count, weights };
}

/** Pillow's clip8: drop the fraction bits (flooring, also for negative sums), clamp to a byte. */
function toByte(sum: number): number {
  const v = Math.floor(sum / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleRows(src: RgbImage, axis: AxisWeights): RgbImage {
  const outWidth = axis.first.length;
  const out = new Uint8Array(outWidth * src.height * 3);
  for (let y = 0; y < src.height; y++) {
    const rowBase = y * src.width * 3;
    for (let x = 0; x < outWidth; x++) {
      const k = x * axis.taps;
      const start = rowBase + axis.first[x]! * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let i = 0; i < axis.count[x]!; i++) {
        const w = axis.weights[k + i]!;
        const p = start + i * 3;
        r += src.data[p]! * w;
        g += src.data[p + 1]! * w;
        b += src.data[p + 2]! * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = toByte(r);
      out[o + 1] = toByte(g);
      out[o + 2] = toByte(b);
    }
  }
  return { width: outWidth, height: src.height, data: out };
}

function resampleColumns(src: RgbImage, axis: AxisWeights): RgbImage {
  const outHeight = axis.first.length;
  const stride = src.width * 3;
  const out = new Uint8Array(src.width * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    const k = y * axis.taps;
    const start = axis.first[y]! * stride;
    const n = axis.count[y]!;
    for (let c = 0; c < stride; c++) {
      let sum = HALF;
      for (let i = 0; i < n; i++) sum += src.data[start + i * stride + c]! * axis.weights[k + i]!;
      out[y * stride + c] = toByte(sum);
    }
  }
  return { width: src.width, height: outHeight, data: out };
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
}

function checkImage(image: RgbImage): void {
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(`RGB image ${image.width}x${image.height} needs ${image.width * image.height * 3} bytes, has ${image.data.length}`);
  }
}
