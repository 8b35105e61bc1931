/**
 * Symmetric weight quantisation for the int8 graphs. Weights are fixed, so their scales are
 * computed once at build time; activations are quantised by onnxruntime at run time.
 */

/** A linear layer's weight as DynamicQuantizeMatMul takes it: B = q * scale per column. */
export interface QuantizedLinear {
  values: Int8Array; // [in, out]: transposed from torch's [out, in] so that y = x · B
  scales: Float32Array; // [out]
}

/** An embedding table with one scale per row, dequantised only for the rows looked up. */
export interface QuantizedRows {
  values: Int8Array; // [rows, width]
  scales: Float32Array; // [rows]
}

/**
 * Largest quantised magnitude. 127 uses the full signed range. 63 leaves a bit of headroom for
 * CPUs without VNNI, where onnxruntime multiplies uint8 activations by int8 weights with
 * vpmaddubsw, whose int16 pair sums saturate once |w| > 64 (255·127·2 > 32767).
 */
export type WeightLevels = 127 | 63;

/** Per-output-channel quantisation of a torch Linear weight [out, in]: its rows, transposed. */
export function quantizeLinear(weight: Float32Array, out: number, inFeatures: number, levels: WeightLevels): QuantizedLinear {
  const rows = quantizeRows(weight, out, inFeatures, levels); // [out, in]
  const values = new Int8Array(out * inFeatures); // [in, out]
  for (let o = 0; o < out; o++) for (let i = 0; i < inFeatures; i++) values[i * out + o] = rows.values[o * inFeatures + i]!;
  return { values, scales: rows.scales };
}

/** Per-row quantisation of an embedding table [rows, width] (each row is read on its own). */
export function quantizeRows(table: Float32Array, rows: number, width: number, levels: WeightLevels): QuantizedRows {
  if (table.length !== rows * width) throw new RangeError(`table has ${table.length} values, [${rows}, ${width}] needs ${rows * width}`);
  const values = new Int8Array(rows * width); // [rows, width]
  const scales = new Float32Array(rows); // [rows]
  for (let r = 0; r < rows; r++) {
    const row = table.subarray(r * width, (r + 1) * width); // [width]
    const scale = rowScale(row, levels);
    scales[r] = scale;
    const inverse = scale === 0 ? 0 : 1 / scale;
    for (let i = 0; i < width; i++) values[r * width + i] = roundClamp(row[i]! * inverse, levels);
  }
  return { values, scales };
}

/** max|x| / levels, so the largest weight of the row maps to ±levels exactly. */
function rowScale(row: Float32Array, levels: number): number {
  let max = 0;
  for (let i = 0; i < row.length; i++) {
    const a = Math.abs(row[i]!);
    if (!(a < Infinity)) throw new RangeError('weight holds a NaN or infinite value'); // NaN fails every comparison
    if (a > max) max = a;
  }
  return Math.fround(max / levels);
}

/** Round half away from zero, then clamp to ±levels. */
function roundClamp(x: number, levels: number): number {
  const r = x < 0 ? -Math.round(-x) : Math.round(x);
  return r > levels ? levels : r < -levels ? -levels : r;
}
