import type { VisionConfig } from '../checkpoint/config';
import { visionNames } from '../checkpoint/weight-names';
import { GraphBuilder } from './graph-builder';
import { attention, gatedMlp, keyMaskBias, linear, mergeHeads, rmsNorm, splitHeads, type WeightLookup } from './layers';

export const ENCODER_IO = {
  patches: 'flattened_patches',
  mask: 'attention_mask',
  output: 'last_hidden_state',
} as const;

/**
 * Pix2Struct vision encoder: patch projection plus learned row/column embeddings, then
 * pre-norm T5 layers whose attention has no relative bias, only the padding mask.
 */
export function buildEncoderGraph(g: GraphBuilder, cfg: VisionConfig, w: WeightLookup): void {
  const { hiddenSize: H, numHeads: h, dKv: d, patchEmbedHiddenSize: pixels } = cfg;
  const patches = g.input(ENCODER_IO.patches, 'float', ['batch', 'patches', pixels + 2]); // [B, P, 2 + 768]
  const mask = g.input(ENCODER_IO.mask, 'float', ['batch', 'patches']); // [B, P]

  const ids = (col: number) => {
    const slice = g.op('Slice', [patches, g.constInt64([col]), g.constInt64([col + 1]), g.constInt64([2])]); // [B, P, 1]
    return g.op('Cast', [g.op('Squeeze', [slice, g.constInt64([2])])], { to: 7 }); // [B, P] int64
  };
  const rowEmb = g.op('Gather', [w(visionNames.rowEmbedder), ids(0)], {}, 'row_emb'); // [B, P, H]
  const colEmb = g.op('Gather', [w(visionNames.columnEmbedder), ids(1)], {}, 'col_emb'); // [B, P, H]
  const pixelsIn = g.op('Slice', [patches, g.constInt64([2]), g.constInt64([pixels + 2]), g.constInt64([2])]); // [B, P, 768]
  const projected = g.op('Add', [linear(g, pixelsIn, w(visionNames.patchProjectionWeight)), w(visionNames.patchProjectionBias)]);
  let hidden = g.op('Add', [g.op('Add', [projected, rowEmb]), colEmb], {}, 'embeddings'); // [B, P, H]

  const bias = keyMaskBias(g, mask); // [B, 1, 1, P]
  for (let i = 0; i < cfg.numLayers; i++) {
    const n = visionNames.layer(i);
    const normed = rmsNorm(g, hidden, w(n.preAttentionNorm), cfg.layerNormEps); // [B, P, H]
    const q = splitHeads(g, linear(g, normed, w(n.query)), h, d); // [B, h, P, d]
    const kT = splitHeads(g, linear(g, normed, w(n.key)), h, d, true); // [B, h, d, P]
    const v = splitHeads(g, linear(g, normed, w(n.value)), h, d); // [B, h, P, d]
    const context = mergeHeads(g, attention(g, q, kT, v, bias), h, d); // [B, P, h*d]
    hidden = g.op('Add', [hidden, linear(g, context, w(n.output))], {}, `enc${i}_attn_out`);
    const mlpIn = rmsNorm(g, hidden, w(n.preMlpNorm), cfg.layerNormEps);
    hidden = g.op('Add', [hidden, gatedMlp(g, mlpIn, w(n.wi0), w(n.wi1), w(n.wo), cfg.denseActFn)], {}, `enc${i}_out`);
  }
  const out = rmsNorm(g, hidden, w(visionNames.finalNorm), cfg.layerNormEps);
  g.output(out, ENCODER_IO.output, 'float', ['batch', 'patches', H]);
}
