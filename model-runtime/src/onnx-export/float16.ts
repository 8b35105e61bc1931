/**
 * IEEE 754 half precision (float16) on the host, for optimum exports made with
 * `--dtype fp16`, whose graphs take and return float16 tensors: onnxruntime-node moves them
 * as the raw 16-bit patterns in a Uint16Array. Narrowing rounds to nearest, ties to even
 * (as numpy's and onnxruntime's casts do), overflows to ±Infinity, keeps NaN a NaN and
 * produces subnormals below 2^-14; widening is exact.
 */
import { floatTensor, type HostTensor } from '../runtime/ort-session';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest to `value` (ties to even). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf, NaN (quiet)
  const e = exp - 127 + 15; // rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa, with its implicit 1, into place.
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) !== 0)) half++;
    return sign | half; // a carry into the exponent field gives the smallest normal, as it should
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) !== 0)) half++; // a carry may round up to Inf, correctly
  return sign | half;
}

/** The value of a float16 bit pattern. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToFloat16(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toHalfBits(data[i]!);
  return out;
}

/** Widening is exact, so a table of all 65536 patterns serves every conversion. */
let table: Float32Array | null = null;
export function float16ToFloat32(data: Uint16Array): Float32Array {
  if (!table) {
    table = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) table[h] = fromHalfBits(h);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = table[data[i]!]!;
  return out;
}

export function float16Tensor(data: Uint16Array, dims: readonly number[]): HostTensor {
  return { type: 'float16', data, dims };
}

/** A float32 tensor narrowed to float16 when `type` is 'float16'; anything else as it is. */
export function castFloatTo(t: HostTensor, type: string): HostTensor {
  if (type === 'float16' && t.type === 'float32') return float16Tensor(float32ToFloat16(t.data), t.dims);
  return t;
}

/** A float16 tensor widened to float32; anything else as it is. */
export function widenFloat(t: HostTensor): HostTensor {
  return t.type === 'float16' ? floatTensor(float16ToFloat32(t.data), t.dims) : t;
}
