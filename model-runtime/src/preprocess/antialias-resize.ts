const f32 = Math.fround;

interface AxisWeights {
  /** First input index each output sample reads. */
  start: Int32Array;
  /** Number of taps per output sample. */
  taps: Int32Array;
  /** Normalised float32 weights, `maxTaps` per output sample. */
  weights: Float32Array;
  maxTaps: number;
}

/**
 * Triangle-filter weights as torch's antialiased bilinear interpolation computes them
 * (align_corners=False): half-pixel centres, support widened by the downscale factor,
 * everything in float32 so taps and rounding match the reference bit for bit.
 */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = f32(inSize / outSize);
  const support = scale >= 1 ? f32(scale) : 1; // (interp_size / 2) * scale, interp_size = 2
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const taps = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = f32(scale * f32(i + 0.5));
    const xmin = Math.max(Math.trunc(f32(f32(center - support) + 0.5)), 0);
    const xsize = Math.min(Math.trunc(f32(f32(center + support) + 0.5)), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const x = Math.abs(f32(f32(f32(j + xmin) - center + 0.5) * invScale));
      const w = x < 1 ? f32(1 - x) : 0;
      weights[i * maxTaps + j] = w;
      total = f32(total + w);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weights[i * maxTaps + j] = f32(weights[i * maxTaps + j]! / total);
    start[i] = xmin;
    taps[i] = xsize;
  }
  return { start, taps, weights, maxTaps };
}

/** Horizontal pass over `rows` rows of width `w` (all channel planes stacked): [rows, w] -> [rows, outW]. */
function resampleRows(src: Float32Array, rows: number, w: number, outW: number): Float32Array {
  const { start, taps, weights, maxTaps } = axisWeights(w, outW);
  const dst = new Float32Array(rows * outW);
  for (let y = 0; y < rows; y++) {
    const rowBase = y * w;
    const outBase = y * outW;
    for (let x = 0; x < outW; x++) {
      const s0 = rowBase + start[x]!;
      const wOff = x * maxTaps;
      const n = taps[x]!;
      // torch accumulates the weighted taps in float32, first tap first.
      let acc = f32(src[s0]! * weights[wOff]!);
      for (let j = 1; j < n; j++) acc = f32(acc + f32(src[s0 + j]! * weights[wOff + j]!));
      dst[outBase + x] = acc;
    }
  }
  return dst;
}

/** Vertical pass of each of `channels` planes [h, w] -> [outH, w], row by row for locality. */
function resampleColumns(src: Float32Array, channels: number, h: number, w: number, outH: number): Float32Array {
  const { start, taps, weights, maxTaps } = axisWeights(h, outH);
  const dst = new Float32Array(channels * outH * w);
  for (let c = 0; c < channels; c++) {
    const srcPlane = c * h * w;
    const dstPlane = c * outH * w;
    for (let y = 0; y < outH; y++) {
      const out = dstPlane + y * w;
      const first = srcPlane + start[y]! * w;
      const w0 = weights[y * maxTaps]!;
      for (let x = 0; x < w; x++) dst[out + x] = f32(src[first + x]! * w0);
      for (let j = 1; j < taps[y]!; j++) {
        const row = first + j * w;
        const wj = weights[y * maxTaps + j]!;
        for (let x = 0; x < w; x++) dst[out + x] = f32(dst[out + x]! + f32(src[row + x]! * wj));
      }
    }
  }
  return dst;
}

/**
 * torch.nn.functional.interpolate(mode="bilinear", antialias=True, align_corners=False) on a
 * planar float image: width first, then height, each pass skipped when that size is kept.
 */
export function resizeBilinearAntialias(src: Float32Array, channels: number, h: number, w: number, outH: number, outW: number): Float32Array {
  let data = src;
  if (outW !== w) data = resampleRows(data, channels * h, w, outW);
  if (outH !== h) data = resampleColumns(data, channels, h, outW, outH);
  return data === src ? src.slice() : data;
}
