import type { RgbImage } from './rgb-image';

const f32 = Math.fround;

/** The affine map x -> (x - mean) / std that standardisation applies to every value. */
export interface Standardization {
  mean: number;
  std: number;
}

/** Without normalisation the processor feeds the raw pixel values. */
export const IDENTITY: Standardization = { mean: 0, std: 1 };

/**
 * Per-image standardisation (TensorFlow's per_image_standardization, as transformers does
 * it): mean and population std over every value of the whole image, std floored at
 * 1/sqrt(N), both rounded to float32 like the numpy scalars the reference divides by.
 *
 * Only the statistics are computed here: the map is affine and every resized sample is a
 * weighted sum of pixels, so the resizer applies it to the few resized values instead of
 * converting the whole full-size image to float first.
 */
export function standardization(image: RgbImage): Standardization {
  const n = image.data.length;
  const { sum, squares } = byteSums(image.data);
  const mean = sum / n;
  // variance = (n * squares - sum^2) / n^2: the difference is taken exactly in integers, where
  // doubles would cancel to noise on a nearly flat image.
  const variance = Number(BigInt(n) * BigInt(squares) - BigInt(sum) * BigInt(sum)) / (n * n);
  const std = Math.max(Math.sqrt(variance), 1 / Math.sqrt(n));
  return { mean: f32(mean), std: f32(std) };
}

/** Chunk small enough that 32-bit integer sums of squares cannot overflow (255^2 * 32768 < 2^31). */
const CHUNK_BYTES = 32768;

/**
 * Sum and sum of squares of every byte, exact (both stay below 2^53 for any image decodeImage
 * accepts). Bytes are read four at a time, a quarter of the loads and bounds checks, and
 * summed in 32-bit integers chunk by chunk.
 */
function byteSums(data: Uint8Array): { sum: number; squares: number } {
  const n = data.length;
  const words = new DataView(data.buffer, data.byteOffset, n);
  const body = n - (n % 4);
  let sum = 0;
  let squares = 0;
  for (let chunk = 0; chunk < body; chunk += CHUNK_BYTES) {
    const end = Math.min(body, chunk + CHUNK_BYTES);
    let s = 0;
    let q = 0;
    for (let i = chunk; i < end; i += 4) {
      const v = words.getUint32(i, true);
      const a = v & 255;
      const b = (v >>> 8) & 255;
      const c = (v >>> 16) & 255;
      const d = v >>> 24;
      s = (s + a + b + c + d) | 0;
      q = (q + a * a + b * b + c * c + d * d) | 0;
    }
    sum += s;
    squares += q;
  }
  for (let i = body; i < n; i++) {
    sum += data[i]!;
    squares += data[i]! * data[i]!;
  }
  return { sum, squares };
}
