import type { Pix2StructConfig } from './config';

/** HF state-dict names of the Pix2Struct weights, one function per module. */
export const visionNames = {
  patchProjectionWeight: 'encoder.embeddings.patch_projection.weight',
  patchProjectionBias: 'encoder.embeddings.patch_projection.bias',
  rowEmbedder: 'encoder.embeddings.row_embedder.weight',
  columnEmbedder: 'encoder.embeddings.column_embedder.weight',
  finalNorm: 'encoder.layernorm.weight',
  layer: (i: number) => {
    const p = `encoder.encoder.layer.${i}`;
    return {
      preAttentionNorm: `${p}.pre_attention_layer_norm.weight`,
      query: `${p}.attention.query.weight`,
      key: `${p}.attention.key.weight`,
      value: `${p}.attention.value.weight`,
      output: `${p}.attention.output.weight`,
      preMlpNorm: `${p}.pre_mlp_layer_norm.weight`,
      wi0: `${p}.mlp.wi_0.weight`,
      wi1: `${p}.mlp.wi_1.weight`,
      wo: `${p}.mlp.wo.weight`,
    };
  },
};

export const textNames = {
  embedTokens: 'decoder.embed_tokens.weight',
  relativeAttentionBias: 'decoder.layer.0.self_attention.attention.relative_attention_bias.weight',
  finalNorm: 'decoder.final_layer_norm.weight',
  lmHead: 'decoder.lm_head.weight',
  layer: (i: number) => {
    const p = `decoder.layer.${i}`;
    return {
      selfNorm: `${p}.self_attention.layer_norm.weight`,
      selfQuery: `${p}.self_attention.attention.query.weight`,
      selfKey: `${p}.self_attention.attention.key.weight`,
      selfValue: `${p}.self_attention.attention.value.weight`,
      selfOutput: `${p}.self_attention.attention.output.weight`,
      crossNorm: `${p}.encoder_decoder_attention.layer_norm.weight`,
      crossQuery: `${p}.encoder_decoder_attention.attention.query.weight`,
      crossKey: `${p}.encoder_decoder_attention.attention.key.weight`,
      crossValue: `${p}.encoder_decoder_attention.attention.value.weight`,
      crossOutput: `${p}.encoder_decoder_attention.attention.output.weight`,
      mlpNorm: `${p}.mlp.layer_norm.weight`,
      wi0: `${p}.mlp.DenseReluDense.wi_0.weight`,
      wi1: `${p}.mlp.DenseReluDense.wi_1.weight`,
      wo: `${p}.mlp.DenseReluDense.wo.weight`,
    };
  },
};

/**
 * Every tensor the graphs need with the shape the config implies (torch Linear layout
 * [out_features, in_features]). The lm_head may be absent when embeddings are tied.
 */
export function expectedWeightShapes(config: Pix2StructConfig, patchPixels: number): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const v = config.vision;
  const vInner = v.numHeads * v.dKv;
  shapes.set(visionNames.patchProjectionWeight, [v.hiddenSize, patchPixels]);
  shapes.set(visionNames.patchProjectionBias, [v.hiddenSize]);
  shapes.set(visionNames.rowEmbedder, [v.seqLen, v.hiddenSize]);
  shapes.set(visionNames.columnEmbedder, [v.seqLen, v.hiddenSize]);
  shapes.set(visionNames.finalNorm, [v.hiddenSize]);
  for (let i = 0; i < v.numLayers; i++) {
    const n = visionNames.layer(i);
    shapes.set(n.preAttentionNorm, [v.hiddenSize]);
    shapes.set(n.query, [vInner, v.hiddenSize]);
    shapes.set(n.key, [vInner, v.hiddenSize]);
    shapes.set(n.value, [vInner, v.hiddenSize]);
    shapes.set(n.output, [v.hiddenSize, vInner]);
    shapes.set(n.preMlpNorm, [v.hiddenSize]);
    shapes.set(n.wi0, [v.dFf, v.hiddenSize]);
    shapes.set(n.wi1, [v.dFf, v.hiddenSize]);
    shapes.set(n.wo, [v.hiddenSize, v.dFf]);
  }
  const t = config.text;
  const tInner = t.numHeads * t.dKv;
  shapes.set(textNames.embedTokens, [t.vocabSize, t.hiddenSize]);
  shapes.set(textNames.relativeAttentionBias, [t.relativeAttentionNumBuckets, t.numHeads]);
  shapes.set(textNames.finalNorm, [t.hiddenSize]);
  if (!t.tieWordEmbeddings) shapes.set(textNames.lmHead, [t.vocabSize, t.hiddenSize]);
  for (let i = 0; i < t.numLayers; i++) {
    const n = textNames.layer(i);
    for (const norm of [n.selfNorm, n.crossNorm, n.mlpNorm]) shapes.set(norm, [t.hiddenSize]);
    shapes.set(n.selfQuery, [tInner, t.hiddenSize]);
    shapes.set(n.selfKey, [tInner, t.hiddenSize]);
    shapes.set(n.selfValue, [tInner, t.hiddenSize]);
    shapes.set(n.selfOutput, [t.hiddenSize, tInner]);
    shapes.set(n.crossQuery, [tInner, t.hiddenSize]);
    // Cross-attention keys/values project the encoder's states.
    shapes.set(n.crossKey, [tInner, v.hiddenSize]);
    shapes.set(n.crossValue, [tInner, v.hiddenSize]);
    shapes.set(n.crossOutput, [t.hiddenSize, tInner]);
    shapes.set(n.wi0, [t.dFf, t.hiddenSize]);
    shapes.set(n.wi1, [t.dFf, t.hiddenSize]);
    shapes.set(n.wo, [t.hiddenSize, t.dFf]);
  }
  return shapes;
}
