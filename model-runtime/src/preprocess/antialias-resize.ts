import type { Standardization } from './normalize';
import type { RgbImage } from './rgb-image';

const f32 = Math.fround;

export interface AxisWeights {
  /** First input index each output sample reads. */
  start: Int32Array; // [outSize]
  /** Number of taps per output sample, zero-weight taps at either end left out. */
  taps: Int32Array; // [outSize]
  /** torch's float32 weights, `stride` slots per output sample, zero past its taps. */
  weights: Float64Array; // [outSize, stride]
  /** Sum of each sample's weights: float32 rounding leaves it a few ulp off 1. */
  sums: Float64Array; // [outSize]
  /** Weight slots per output sample: the most taps any sample can have, rounded up to 4. */
  stride: number;
  inSize: number;
}

/**
 * Triangle-filter weights as torch's antialiased bilinear interpolation computes them
 * (align_corners=False): half-pixel centres, support widened by the downscale factor, and
 * float32 throughout so that taps and weights are torch's own.
 */
export function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = f32(inSize / outSize);
  const support = scale >= 1 ? f32(scale) : 1; // (interp_size / 2) * scale, interp_size = 2
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const stride = Math.ceil(maxTaps / 4) * 4;
  const start = new Int32Array(outSize); // [outSize]
  const taps = new Int32Array(outSize); // [outSize]
  const weights = new Float64Array(outSize * stride); // [outSize, stride]
  const sums = new Float64Array(outSize); // [outSize]
  const raw = new Float32Array(maxTaps); // [maxTaps]
  for (let i = 0; i < outSize; i++) {
    const center = f32(scale * f32(i + 0.5));
    const xmin = Math.max(Math.trunc(f32(f32(center - support) + 0.5)), 0);
    const xsize = Math.min(Math.trunc(f32(f32(center + support) + 0.5)), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const x = Math.abs(f32(f32(f32(j + xmin) - center + 0.5) * invScale));
      raw[j] = x < 1 ? f32(1 - x) : 0;
      total = f32(total + raw[j]!);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) raw[j] = f32(raw[j]! / total);
    // A zero weight adds nothing to a sum accumulated in double: trimming it saves the load.
    let first = 0;
    let end = xsize;
    while (first < end && raw[first] === 0) first++;
    while (end > first && raw[end - 1] === 0) end--;
    let sum = 0;
    for (let j = first; j < end; j++) {
      weights[i * stride + j - first] = raw[j]!;
      sum += raw[j]!;
    }
    start[i] = xmin + first;
    taps[i] = end - first;
    sums[i] = sum;
  }
  return { start, taps, weights, sums, stride, inSize };
}

/** Where each resized sample lands in the flattened patches. */
export interface PatchLayout {
  patchHeight: number;
  patchWidth: number;
  /** Patches per row of the grid. */
  cols: number;
  /** Floats per flattened patch row, ids included. */
  depth: number;
  /** Floats in front of the pixels of each patch row (the row and column ids). */
  idColumns: number;
}

/**
 * torch.nn.functional.interpolate(mode="bilinear", antialias=True, align_corners=False) of
 * the standardised image, written straight into the flattened patches of `out`.
 *
 * torch standardises the full image in float32 and then resizes it, width first. Here the
 * resize reads the 8-bit pixels and standardises each resized sample, which is the same
 * sum because the map is affine: sum(w * (x - mean)) / std = (sum(w * x) - mean * sum(w)) / std,
 * with sum(w) the float32 weights' own total, not 1 (on a low-contrast image, mean / std is
 * large enough for that difference to show). Accumulating in double leaves only torch's
 * float32 rounding between the two, a few ulp of the output.
 *
 * The height pass goes first: it runs over bytes in long contiguous sweeps, the cheap form,
 * and leaves the width pass, whose taps have to be gathered sample by sample, only the
 * output rows. Each output row is then finished at once and streamed into its patches.
 */
export function resizeIntoPatches(image: RgbImage, outH: number, outW: number, norm: Standardization, layout: PatchLayout, out: Float32Array): void {
  const rowLength = image.width * 3;
  const vertical = axisWeights(image.height, outH);
  const horizontal = axisWeights(image.width, outW);
  const columnOffsets = patchColumnOffsets(outW, layout); // [outW]
  const pixels = new DataView(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const upper = new Float64Array(rowLength); // [W, 3]
  const lower = new Float64Array(rowLength); // [W, 3]
  const invStd = 1 / norm.std;
  // Output rows go in pairs: the width pass then loads each weight and tap index once for both.
  for (let y = 0; y < outH; y += 2) {
    const y1 = Math.min(y + 1, outH - 1); // an odd last row is simply computed twice
    blendRows(pixels, rowLength, vertical, y, upper);
    blendRows(pixels, rowLength, vertical, y1, lower);
    const rows: RowPair = {
      upper,
      lower,
      upperMean: norm.mean * vertical.sums[y]!,
      lowerMean: norm.mean * vertical.sums[y1]!,
      upperOffset: patchRowOffset(y, layout),
      lowerOffset: patchRowOffset(y1, layout),
    };
    // torch skips the width pass when the width is kept; its weights would be exactly 1.
    if (outW === image.width) storeRowPair(rows, invStd, columnOffsets, out);
    else resampleRowPair(rows, horizontal, invStd, columnOffsets, out);
  }
}

/** Where resized row `y` starts in its patch row, past the ids. */
function patchRowOffset(y: number, layout: PatchLayout): number {
  const patchRow = Math.floor(y / layout.patchHeight);
  return patchRow * layout.cols * layout.depth + layout.idColumns + (y - patchRow * layout.patchHeight) * layout.patchWidth * 3;
}

/** For each resized column, its offset in a patch row: the patch it falls in and its place there. */
function patchColumnOffsets(outW: number, layout: PatchLayout): Int32Array {
  const offsets = new Int32Array(outW); // [outW]
  for (let x = 0; x < outW; x++) {
    const patchCol = Math.floor(x / layout.patchWidth);
    offsets[x] = patchCol * layout.depth + (x - patchCol * layout.patchWidth) * 3;
  }
  return offsets;
}

/**
 * Height pass for output row `y`: the weighted sum of its input rows, [W, 3] bytes -> [W, 3]
 * doubles, four input rows per sweep (a sweep costs about the same with one row as with
 * four, and each sweep after the first loads and stores the accumulator again).
 */
function blendRows(src: DataView, rowLength: number, w: AxisWeights, y: number, dst: Float64Array): void {
  const taps = w.taps[y]!;
  if (taps === 1) return scaleRow(src, w.start[y]! * rowLength, rowLength, w.weights[y * w.stride]!, dst);
  if (taps === 0) return void dst.fill(0);
  for (let j = 0; j < taps; j += 4) sweepFourRows(src, rowLength, w, y, j, dst);
}

/** One input row times its weight (1 when the height is kept, as torch then skips the pass). */
function scaleRow(src: DataView, row: number, n: number, weight: number, dst: Float64Array): void {
  const body = n - (n % 4);
  for (let i = 0; i < body; i += 4) {
    const v = src.getUint32(row + i, true);
    dst[i] = weight * (v & 255);
    dst[i + 1] = weight * ((v >>> 8) & 255);
    dst[i + 2] = weight * ((v >>> 16) & 255);
    dst[i + 3] = weight * (v >>> 24);
  }
  for (let i = body; i < n; i++) dst[i] = weight * src.getUint8(row + i);
}

/**
 * Taps j..j+3 of output row `y`: dst = their weighted sum for the first four, dst += after.
 * Each 32-bit load brings four bytes of a row, a quarter of the loads and bounds checks of
 * byte reads, and DataView takes them at any alignment.
 */
function sweepFourRows(src: DataView, n: number, w: AxisWeights, y: number, j: number, dst: Float64Array): void {
  // Taps past the last one have weight 0 (the stride is a multiple of 4); clamping their
  // row keeps the reads inside the image.
  const last = w.inSize - 1;
  const first = w.start[y]! + j;
  const r0 = Math.min(first, last) * n;
  const r1 = Math.min(first + 1, last) * n;
  const r2 = Math.min(first + 2, last) * n;
  const r3 = Math.min(first + 3, last) * n;
  const k = y * w.stride + j;
  const w0 = w.weights[k]!;
  const w1 = w.weights[k + 1]!;
  const w2 = w.weights[k + 2]!;
  const w3 = w.weights[k + 3]!;
  const body = n - (n % 4);
  if (j > 0) {
    for (let i = 0; i < body; i += 4) {
      const a = src.getUint32(r0 + i, true);
      const b = src.getUint32(r1 + i, true);
      const c = src.getUint32(r2 + i, true);
      const d = src.getUint32(r3 + i, true);
      dst[i] += w0 * (a & 255) + w1 * (b & 255) + w2 * (c & 255) + w3 * (d & 255);
      dst[i + 1] += w0 * ((a >>> 8) & 255) + w1 * ((b >>> 8) & 255) + w2 * ((c >>> 8) & 255) + w3 * ((d >>> 8) & 255);
      dst[i + 2] += w0 * ((a >>> 16) & 255) + w1 * ((b >>> 16) & 255) + w2 * ((c >>> 16) & 255) + w3 * ((d >>> 16) & 255);
      dst[i + 3] += w0 * (a >>> 24) + w1 * (b >>> 24) + w2 * (c >>> 24) + w3 * (d >>> 24);
    }
  } else {
    for (let i = 0; i < body; i += 4) {
      const a = src.getUint32(r0 + i, true);
      const b = src.getUint32(r1 + i, true);
      const c = src.getUint32(r2 + i, true);
      const d = src.getUint32(r3 + i, true);
      dst[i] = w0 * (a & 255) + w1 * (b & 255) + w2 * (c & 255) + w3 * (d & 255);
      dst[i + 1] = w0 * ((a >>> 8) & 255) + w1 * ((b >>> 8) & 255) + w2 * ((c >>> 8) & 255) + w3 * ((d >>> 8) & 255);
      dst[i + 2] = w0 * ((a >>> 16) & 255) + w1 * ((b >>> 16) & 255) + w2 * ((c >>> 16) & 255) + w3 * ((d >>> 16) & 255);
      dst[i + 3] = w0 * (a >>> 24) + w1 * (b >>> 24) + w2 * (c >>> 24) + w3 * (d >>> 24);
    }
  }
  // The last (3 * width) % 4 bytes of the row.
  for (let i = body; i < n; i++) {
    const sum = w0 * src.getUint8(r0 + i) + w1 * src.getUint8(r1 + i) + w2 * src.getUint8(r2 + i) + w3 * src.getUint8(r3 + i);
    dst[i] = j > 0 ? dst[i]! + sum : sum;
  }
}

/** Two blended rows on their way to the width pass, with what their standardisation subtracts. */
interface RowPair {
  upper: Float64Array; // [W, 3]
  lower: Float64Array; // [W, 3]
  /** mean * (sum of the row's height weights). */
  upperMean: number;
  lowerMean: number;
  /** Where each row starts in the flattened patches (see patchRowOffset). */
  upperOffset: number;
  lowerOffset: number;
}

/**
 * Width pass of two blended rows, standardised and stored as float32 in their patches: each
 * run of `patchWidth` samples is one contiguous stretch of a patch row.
 */
function resampleRowPair(rows: RowPair, w: AxisWeights, invStd: number, columnOffsets: Int32Array, out: Float32Array): void {
  const { upper, lower, upperMean, lowerMean, upperOffset, lowerOffset } = rows;
  const { start, taps, weights, sums, stride } = w;
  const outW = start.length;
  for (let x = 0; x < outW; x++) {
    let p = start[x]! * 3;
    let k = x * stride;
    const end = k + taps[x]!;
    let r0 = 0;
    let g0 = 0;
    let b0 = 0;
    let r1 = 0;
    let g1 = 0;
    let b1 = 0;
    for (; k < end; k++, p += 3) {
      const wk = weights[k]!;
      r0 += wk * upper[p]!;
      g0 += wk * upper[p + 1]!;
      b0 += wk * upper[p + 2]!;
      r1 += wk * lower[p]!;
      g1 += wk * lower[p + 1]!;
      b1 += wk * lower[p + 2]!;
    }
    const shift0 = upperMean * sums[x]!;
    const shift1 = lowerMean * sums[x]!;
    const o0 = upperOffset + columnOffsets[x]!;
    const o1 = lowerOffset + columnOffsets[x]!;
    out[o0] = (r0 - shift0) * invStd;
    out[o0 + 1] = (g0 - shift0) * invStd;
    out[o0 + 2] = (b0 - shift0) * invStd;
    out[o1] = (r1 - shift1) * invStd;
    out[o1 + 1] = (g1 - shift1) * invStd;
    out[o1 + 2] = (b1 - shift1) * invStd;
  }
}

/** The width pass when the width is kept: standardise the two blended rows into their patches. */
function storeRowPair(rows: RowPair, invStd: number, columnOffsets: Int32Array, out: Float32Array): void {
  const { upper, lower, upperMean, lowerMean, upperOffset, lowerOffset } = rows;
  const outW = columnOffsets.length;
  for (let x = 0, p = 0; x < outW; x++, p += 3) {
    const o0 = upperOffset + columnOffsets[x]!;
    const o1 = lowerOffset + columnOffsets[x]!;
    out[o0] = (upper[p]! - upperMean) * invStd;
    out[o0 + 1] = (upper[p + 1]! - upperMean) * invStd;
    out[o0 + 2] = (upper[p + 2]! - upperMean) * invStd;
    out[o1] = (lower[p]! - lowerMean) * invStd;
    out[o1 + 1] = (lower[p + 1]! - lowerMean) * invStd;
    out[o1 + 2] = (lower[p + 2]! - lowerMean) * invStd;
  }
}
