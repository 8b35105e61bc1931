import type { VisionConfig } from '../checkpoint/config';
import { visionNames } from '../checkpoint/weight-names';
import { GraphBuilder } from './graph-builder';
import { explicitSelfAttention, fusedSelfAttention, gatedMlp, linear, rmsNorm, splitLinear, type GraphWeights } from './layers';

export const ENCODER_IO = {
  patches: 'flattened_patches',
  output: 'last_hidden_state',
} as const;

/**
 * Pix2Struct vision encoder: patch projection plus learned row/column embeddings, then
 * pre-norm T5 layers whose attention has no relative bias. The graph takes real patches only:
 * padding rows are masked out of every key in transformers, so the real rows' states do not
 * depend on them, and leaving them out lets attention run unmasked (and on fewer rows).
 */
export function buildEncoderGraph(g: GraphBuilder, cfg: VisionConfig, w: GraphWeights, fusedAttention: boolean): void {
  const { hiddenSize: H, numHeads: h, dKv: d, patchEmbedHiddenSize: pixels } = cfg;
  const patches = g.input(ENCODER_IO.patches, 'float', ['batch', 'patches', pixels + 2]); // [B, P, 2 + 768]

  const ids = (col: number) => {
    const slice = g.op('Slice', [patches, g.constInt64([col]), g.constInt64([col + 1]), g.constInt64([2])]); // [B, P, 1]
    return g.op('Cast', [g.op('Squeeze', [slice, g.constInt64([2])])], { to: 7 }); // [B, P] int64
  };
  const rowEmb = g.op('Gather', [w.tensor(visionNames.rowEmbedder), ids(0)], {}, 'row_emb'); // [B, P, H]
  const colEmb = g.op('Gather', [w.tensor(visionNames.columnEmbedder), ids(1)], {}, 'col_emb'); // [B, P, H]
  const pixelsIn = g.op('Slice', [patches, g.constInt64([2]), g.constInt64([pixels + 2]), g.constInt64([2])]); // [B, P, 768]
  const projected = linear(g, pixelsIn, w.linear(visionNames.patchProjectionWeight), w.tensor(visionNames.patchProjectionBias)); // [B, P, H]
  let hidden = g.op('Add', [g.op('Add', [projected, rowEmb]), colEmb], {}, 'embeddings'); // [B, P, H]

  for (let i = 0; i < cfg.numLayers; i++) {
    const n = visionNames.layer(i);
    const normed = rmsNorm(g, hidden, w.tensor(n.preAttentionNorm), cfg.layerNormEps); // [B, P, H]
    const qkv = w.fusedLinear([n.query, n.key, n.value]);
    const [q, k, v] = splitLinear(g, normed, qkv, [h * d, h * d, h * d]) as [string, string, string]; // [B, P, h*d] each
    const context = fusedAttention ? fusedSelfAttention(g, q, k, v, h) : explicitSelfAttention(g, q, k, v, h, d); // [B, P, h*d]
    hidden = g.op('Add', [hidden, linear(g, context, w.linear(n.output))], {}, `enc${i}_attn_out`);
    const mlpIn = rmsNorm(g, hidden, w.tensor(n.preMlpNorm), cfg.layerNormEps);
    hidden = g.op('Add', [hidden, gatedMlp(g, mlpIn, [w.linear(n.wi0), w.linear(n.wi1)], w.linear(n.wo), cfg.dFf, cfg.denseActFn)], {}, `enc${i}_out`);
  }
  const out = rmsNorm(g, hidden, w.tensor(visionNames.finalNorm), cfg.layerNormEps);
  g.output(out, ENCODER_IO.output, 'float', ['batch', 'patches', H]);
}
