import type { TextConfig } from '../checkpoint/config';
import { textNames } from '../checkpoint/weight-names';
import { GraphBuilder, type Dim } from './graph-builder';
import { attention, gatedMlp, keyMaskBias, linear, lookup, mergeHeads, rmsNorm, splitHeads, splitLinear, type GraphWeights, type KeyLayout } from './layers';

export const CROSS_KV_IO = {
  encoderStates: 'encoder_hidden_states',
  key: (i: number) => `cross_key.${i}`,
  value: (i: number) => `cross_value.${i}`,
} as const;

export const DECODER_IO = {
  inputIds: 'input_ids',
  encoderMask: 'encoder_attention_mask',
  positionBuckets: 'position_buckets',
  causalBias: 'causal_bias',
  pastKey: (i: number) => `past_key.${i}`,
  pastValue: (i: number) => `past_value.${i}`,
  presentKey: (i: number) => `present_key.${i}`,
  presentValue: (i: number) => `present_value.${i}`,
  logits: 'logits',
} as const;

/**
 * Cross-attention keys/values of every decoder layer, computed once per image so each
 * decoding step only projects its own token. Keys come in the layout `keys` names: rows (a cheap
 * transpose here, read transposed by FusedMatMul on the CPU) or pre-transposed for MatMul
 * (providers without FusedMatMul; that transpose scatters every value and costs more than the
 * products on the CPU).
 */
export function buildCrossKvGraph(g: GraphBuilder, cfg: TextConfig, encoderHidden: number, w: GraphWeights, keys: KeyLayout): void {
  const { numHeads: h, dKv: d } = cfg;
  const enc = g.input(CROSS_KV_IO.encoderStates, 'float', ['batch', 'patches', encoderHidden]); // [B, P, H]
  for (let i = 0; i < cfg.numLayers; i++) {
    const n = textNames.layer(i);
    // Two products, not one split in two: every patch passes, and splitting [P, 2 h*d] copies it all.
    const k = splitHeads(g, linear(g, enc, w.linear(n.crossKey)), h, d, keys === 'transposed'); // [B, h, d, P] or [B, h, P, d]
    const v = splitHeads(g, linear(g, enc, w.linear(n.crossValue)), h, d); // [B, h, P, d]
    g.output(k, CROSS_KV_IO.key(i), 'float', crossKeyDims(cfg, keys, 'batch'));
    g.output(v, CROSS_KV_IO.value(i), 'float', ['batch', h, 'patches', d]);
  }
}

function crossKeyDims(cfg: TextConfig, keys: KeyLayout, batch: string): Dim[] {
  return keys === 'transposed' ? [batch, cfg.numHeads, cfg.dKv, 'patches'] : [batch, cfg.numHeads, 'patches', cfg.dKv];
}

/**
 * One decoder pass over `tokens` new positions given `past` cached positions. Relative
 * position buckets and the causal mask come from the host (they depend only on lengths),
 * so the same graph serves the first step, cached steps and full-prefix scoring.
 * Cross K/V and the encoder mask may have batch 1 and broadcast over beams.
 */
export function buildDecoderGraph(g: GraphBuilder, cfg: TextConfig, w: GraphWeights, fusedAttention: boolean, keys: KeyLayout): void {
  const { numHeads: h, dKv: d, layerNormEpsilon: eps } = cfg;
  const ids = g.input(DECODER_IO.inputIds, 'int64', ['batch', 'tokens']); // [B, T]
  const encMask = g.input(DECODER_IO.encoderMask, 'float', ['cross_batch', 'patches']); // [Bc, P]
  const buckets = g.input(DECODER_IO.positionBuckets, 'int64', ['tokens', 'total']); // [T, S]
  const causal = g.input(DECODER_IO.causalBias, 'float', ['tokens', 'total']); // [T, S]

  const rel = g.op('Gather', [w.tensor(textNames.relativeAttentionBias), buckets], {}, 'rel_bias'); // [T, S, h]
  const relHeads = g.op('Transpose', [rel], { perm: [2, 0, 1] }); // [h, T, S]
  const selfBias = g.op('Unsqueeze', [g.op('Add', [relHeads, causal]), g.constInt64([0])], {}, 'self_bias'); // [1, h, T, S]
  const crossBias = keyMaskBias(g, encMask); // [Bc, 1, 1, P]

  let hidden = lookup(g, w.table(textNames.embedTokens), ids, 'embeds'); // [B, T, H]
  for (let i = 0; i < cfg.numLayers; i++) {
    const n = textNames.layer(i);
    const pastK = g.input(DECODER_IO.pastKey(i), 'float', ['batch', h, 'past', d]); // [B, h, past, d]
    const pastV = g.input(DECODER_IO.pastValue(i), 'float', ['batch', h, 'past', d]); // [B, h, past, d]
    const crossK = g.input(CROSS_KV_IO.key(i), 'float', crossKeyDims(cfg, keys, 'cross_batch')); // [Bc, h, d, P] or [Bc, h, P, d]
    const crossV = g.input(CROSS_KV_IO.value(i), 'float', ['cross_batch', h, 'patches', d]); // [Bc, h, P, d]

    const selfIn = rmsNorm(g, hidden, w.tensor(n.selfNorm), eps);
    const [q, k, v] = splitLinear(g, selfIn, w.fusedLinear([n.selfQuery, n.selfKey, n.selfValue]), [h * d, h * d, h * d]) as [string, string, string]; // [B, T, h*d] each
    const { context: selfCtx, presentK, presentV } = fusedAttention
      ? cachedFusedAttention(g, q, k, v, pastK, pastV, selfBias, h)
      : cachedExplicitAttention(g, q, k, v, pastK, pastV, selfBias, h, d);
    g.output(presentK, DECODER_IO.presentKey(i), 'float', ['batch', h, 'total', d]);
    g.output(presentV, DECODER_IO.presentValue(i), 'float', ['batch', h, 'total', d]);
    hidden = g.op('Add', [hidden, linear(g, selfCtx, w.linear(n.selfOutput))], {}, `dec${i}_self_out`);

    const crossIn = rmsNorm(g, hidden, w.tensor(n.crossNorm), eps);
    const cq = splitHeads(g, linear(g, crossIn, w.linear(n.crossQuery)), h, d); // [B, h, T, d]
    const crossCtx = mergeHeads(g, attention(g, cq, crossK, crossV, crossBias, keys), h, d);
    hidden = g.op('Add', [hidden, linear(g, crossCtx, w.linear(n.crossOutput))], {}, `dec${i}_cross_out`);

    const mlpIn = rmsNorm(g, hidden, w.tensor(n.mlpNorm), eps);
    hidden = g.op('Add', [hidden, gatedMlp(g, mlpIn, w.fusedLinear([n.wi0, n.wi1]), w.linear(n.wo), cfg.dFf, cfg.denseActFn)], {}, `dec${i}_out`);
  }
  const final = rmsNorm(g, hidden, w.tensor(textNames.finalNorm), eps);
  g.output(linear(g, final, w.linear(textNames.lmHead)), DECODER_IO.logits, 'float', ['batch', 'tokens', cfg.vocabSize]); // [B, T, V]
}

interface CachedAttention {
  context: string; // [B, T, h*d]
  presentK: string; // [B, h, S, d]
  presentV: string; // [B, h, S, d]
}

/** One fused op appends the new keys/values to the cache and attends over all of them. */
function cachedFusedAttention(g: GraphBuilder, q: string, k: string, v: string, pastK: string, pastV: string, bias: string, h: number): CachedAttention {
  const [context, presentK, presentV] = g.opMulti('MultiHeadAttention', [q, k, v, '', '', bias, pastK, pastV], 3, { num_heads: h, scale: { float: 1 } }, 'self_mha');
  return { context: context!, presentK: presentK!, presentV: presentV! };
}

/** The same from standard ops (the cache layout is shared, so both graphs read one cache). */
function cachedExplicitAttention(g: GraphBuilder, q: string, k: string, v: string, pastK: string, pastV: string, bias: string, h: number, d: number): CachedAttention {
  const presentK = g.op('Concat', [pastK, splitHeads(g, k, h, d)], { axis: 2 }); // [B, h, S, d]
  const presentV = g.op('Concat', [pastV, splitHeads(g, v, h, d)], { axis: 2 }); // [B, h, S, d]
  const kT = g.op('Transpose', [presentK], { perm: [0, 1, 3, 2] }); // [B, h, d, S]
  const context = mergeHeads(g, attention(g, splitHeads(g, q, h, d), kT, presentV, bias), h, d);
  return { context, presentK, presentV };
}
