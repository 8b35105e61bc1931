import type { GraphBuilder } from './graph-builder';

/** torch.finfo(float32).min: what transformers adds to masked attention scores. */
export const FLOAT32_MIN = -3.4028234663852886e38;

/** A linear layer's weight, as the graph's precision stores it. */
export type LinearWeight =
  | { kind: 'float'; weight: string } // [out, in], torch's layout (read transposed)
  | { kind: 'float-in-out'; weight: string } // [in, out], for providers without FusedMatMul
  | { kind: 'int8'; weight: string; scale: string }; // int8 [in, out], float [out]

/** A lookup table (token embeddings), as the graph's precision stores it. */
export type TableWeight =
  | { kind: 'float'; table: string } // [rows, width]
  | { kind: 'int8'; table: string; scale: string }; // int8 [rows, width], float [rows]

/**
 * The checkpoint's weights as initializers of one graph, each created on first use. Names are
 * Hugging Face state-dict names; how a weight is stored is the store's business.
 */
export interface GraphWeights {
  /** A float32 tensor as the checkpoint holds it (norms, biases, position tables). */
  tensor(name: string): string;
  linear(name: string): LinearWeight;
  /** Linear layers over one input as one matrix, outputs concatenated in the order given. */
  fusedLinear(names: readonly string[]): LinearWeight;
  table(name: string): TableWeight;
}

/** T5-style RMSNorm: x / sqrt(mean(x^2) + eps) * weight, no mean subtraction, no bias. */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  return g.op('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: eps } }, 'rmsnorm');
}

/**
 * torch Linear, bias optional. A float weight stays in its [out, in] layout (transB); an int8
 * one runs as DynamicQuantizeMatMul: x is quantised to uint8 per call, y = (x_q · B_q) scaled.
 */
export function linear(g: GraphBuilder, x: string, w: LinearWeight, bias?: string): string {
  if (w.kind === 'int8') {
    // Optional inputs are positional: an empty name skips the zero point (symmetric weights).
    return g.op('DynamicQuantizeMatMul', bias ? [x, w.weight, w.scale, '', bias] : [x, w.weight, w.scale], {}, 'linear_int8');
  }
  const y = w.kind === 'float' ? g.op('FusedMatMul', [x, w.weight], { transB: 1 }, 'linear') : g.op('MatMul', [x, w.weight], {}, 'linear');
  return bias ? g.op('Add', [y, bias]) : y;
}

/**
 * Several linear layers of one input in a single matrix product (one activation quantisation
 * and one kernel call instead of several), split back along the last axis.
 */
export function splitLinear(g: GraphBuilder, x: string, w: LinearWeight, sizes: readonly number[]): string[] {
  const y = linear(g, x, w); // [..., sum(sizes)]
  return g.opMulti('Split', [y, g.constInt64([...sizes])], sizes.length, { axis: -1 }, 'split');
}

/** Rows of `table` for int64 `ids` [...] -> [..., width] float. */
export function lookup(g: GraphBuilder, t: TableWeight, ids: string, hint: string): string {
  if (t.kind === 'float') return g.op('Gather', [t.table, ids], {}, hint);
  const rows = g.op('Cast', [g.op('Gather', [t.table, ids])], { to: 1 }); // [..., width] float
  const scales = g.op('Unsqueeze', [g.op('Gather', [t.scale, ids]), g.constInt64([-1])]); // [..., 1]
  return g.op('Mul', [rows, scales], {}, hint);
}

/**
 * onnxruntime's fused attention over [B, S, heads*dKv] inputs (no head split or merge needed),
 * unscaled as T5 is. Without a mask or bias its CPU kernel streams the scores block by block
 * instead of materialising [B, heads, S, S].
 */
export function fusedSelfAttention(g: GraphBuilder, q: string, k: string, v: string, heads: number): string {
  return g.op('MultiHeadAttention', [q, k, v], { num_heads: heads, scale: { float: 1 } }, 'mha'); // [B, S, heads*dKv]
}

/** The same attention from standard ops, for providers whose fused kernel cannot be trusted. */
export function explicitSelfAttention(g: GraphBuilder, q: string, k: string, v: string, heads: number, dKv: number): string {
  const context = attention(g, splitHeads(g, q, heads, dKv), splitHeads(g, k, heads, dKv, true), splitHeads(g, v, heads, dKv)); // [B, h, S, d]
  return mergeHeads(g, context, heads, dKv); // [B, S, heads*dKv]
}

/** [B, T, heads*dKv] -> [B, heads, T, dKv], or [B, heads, dKv, T] when `keyLayout`. */
export function splitHeads(g: GraphBuilder, x: string, heads: number, dKv: number, keyLayout = false): string {
  const shaped = g.op('Reshape', [x, g.constInt64([0, 0, heads, dKv])]);
  return g.op('Transpose', [shaped], { perm: keyLayout ? [0, 2, 3, 1] : [0, 2, 1, 3] });
}

/** [B, heads, T, dKv] -> [B, T, heads*dKv]. */
export function mergeHeads(g: GraphBuilder, x: string, heads: number, dKv: number): string {
  const t = g.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [t, g.constInt64([0, 0, heads * dKv])]);
}

/** How keys are laid out for attention: [.., d, S] for MatMul, or [.., S, d] read transposed by FusedMatMul. */
export type KeyLayout = 'transposed' | 'rows';

/**
 * Unscaled dot-product attention as T5/Pix2Struct computes it (no 1/sqrt(d)).
 * q: [B, h, T, d], k: [B|1, h, d, S] ('transposed') or [B|1, h, S, d] ('rows'), v: [B|1, h, S, d],
 * bias broadcastable to [B, h, T, S].
 */
export function attention(g: GraphBuilder, q: string, k: string, v: string, bias?: string, keys: KeyLayout = 'transposed'): string {
  const raw = keys === 'rows' ? g.op('FusedMatMul', [q, k], { transB: 1 }, 'scores') : g.op('MatMul', [q, k], {}, 'scores'); // [B, h, T, S]
  const scores = bias ? g.op('Add', [raw, bias]) : raw;
  const probs = g.op('Softmax', [scores], { axis: -1 }, 'probs');
  return g.op('MatMul', [probs, v], {}, 'context'); // [B, h, T, d]
}

/** Additive key mask from a 0/1 float mask [B, S]: 0 where kept, float32 min where masked -> [B, 1, 1, S]. */
export function keyMaskBias(g: GraphBuilder, mask: string): string {
  const inverted = g.op('Sub', [g.constFloat([1], []), mask]);
  const bias = g.op('Mul', [inverted, g.constFloat([FLOAT32_MIN], [])]);
  return g.op('Unsqueeze', [bias, g.constInt64([1, 2])], {}, 'key_mask_bias');
}

/**
 * Gated MLP: wo(act(wi_0 x) * wi_1 x). wi_0 and wi_1 come as one matrix [dFf + dFf, in] where few
 * rows pass (a decoder step: one product instead of two), or apart where many do (the encoder:
 * splitting a [P, 2 dFf] product costs more than quantising x twice; measured 7.0 vs 3.8 ms).
 */
export function gatedMlp(g: GraphBuilder, x: string, wi: LinearWeight | readonly [LinearWeight, LinearWeight], wo: LinearWeight, dFf: number, act: string): string {
  const [gateIn, up] = 'kind' in wi ? (splitLinear(g, x, wi, [dFf, dFf]) as [string, string]) : [linear(g, x, wi[0]), linear(g, x, wi[1])]; // [..., dFf] each
  return linear(g, g.op('Mul', [activation(g, gateIn, act), up]), wo);
}

function activation(g: GraphBuilder, x: string, act: string): string {
  switch (act) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return g.op('Gelu', [x], { approximate: 'tanh' });
    case 'gelu':
      return g.op('Gelu', [x]);
    case 'relu':
      return g.op('Relu', [x]);
    default:
      throw new Error(`unsupported activation ${act}`);
  }
}
