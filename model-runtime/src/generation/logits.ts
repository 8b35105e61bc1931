/** Log-softmax over one row of logits, in float32 like torch's CPU kernel. */
export function logSoftmax(row: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const logSum = Math.log(sum);
  const out = new Float32Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]! - max - logSum;
  return out;
}

/** Index of the largest value; the first one on ties, like torch.argmax. */
export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface TopK {
  ids: number[];
  values: number[];
}

/** The k largest values, sorted descending; lower index first on ties. */
export function topK(row: Float32Array, k: number): TopK {
  const ids: number[] = [];
  // Insertion into a small sorted list: k is at most a few dozen, rows are ~50k wide.
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (ids.length === k && v <= row[ids[k - 1]!]!) continue;
    let pos = ids.length;
    while (pos > 0 && row[ids[pos - 1]!]! < v) pos--;
    ids.splice(pos, 0, i);
    if (ids.length > k) ids.pop();
  }
  return { ids, values: ids.map((i) => row[i]!) };
}
