/**
 * Upper bounds on the sizes a config may declare, checked before anything is allocated from
 * them. Without them a mistyped or hostile value (a billion layers, a billion patches) ends
 * seconds later in "Map maximum size exceeded" or "Invalid typed array length", or in an
 * out-of-memory kill. Every released Pix2Struct checkpoint (base, large, MatCha, DePlot and the
 * fine-tunes of either) sits far inside them: the largest, pix2struct-large, has 18 layers of
 * 24 heads × 64, hidden 1536, d_ff 3968, a 50244-token vocabulary, seq_len 4096, 16×16 patches
 * and 4096 max_patches. The margin (about 10× and more, and at least the largest value of any
 * published transformer) keeps bigger future fine-tunes working; the bounds only have to be far
 * below what a process can allocate.
 */
export const CONFIG_LIMITS = {
  /** num_layers / num_hidden_layers: pix2struct-large has 18; the deepest published LLMs ~126. */
  layers: 256,
  /** num_heads / num_attention_heads: pix2struct-large has 24; LLMs at most 128. */
  heads: 256,
  /** d_kv: 64 in every Pix2Struct; T5-11B uses 128. */
  dKv: 1024,
  /** heads × d_kv, the attention width (may differ from hidden_size, as in T5-11B: 16384 vs 1024). */
  attentionWidth: 65536,
  /** hidden_size: 1536 in pix2struct-large; the widest LLMs ~16384. */
  hidden: 65536,
  /** d_ff: 3968 in pix2struct-large; T5-11B 65536. */
  dFf: 262144,
  /** vocab_size: 50244 everywhere in Pix2Struct; the largest LLM vocabularies ~256k. */
  vocab: 10_000_000,
  /** seq_len: rows of the learned row/column position tables (4096). */
  seqLen: 65536,
  /** relative_attention_num_buckets: 32; the bias table is [buckets, heads]. */
  relativeBuckets: 1024,
  /** relative_attention_max_distance: 128; it only scales the bucket boundaries. */
  relativeMaxDistance: 1_000_000,
  /** patch_size height and width: 16. */
  patchSide: 256,
  /** patch_embed_hidden_size, the pixels of one patch: 3 × patchSide². */
  patchPixels: 3 * 256 * 256,
  /** max_patches (config or --max-patches): 2048 (base) or 4096 (large); 16× the largest. */
  maxPatches: 65536,
  /**
   * One image's flattened patches, max_patches × (3·height·width + 2) float32s: 4096 × 770 for
   * pix2struct-large. Bounds the product when patches are both many and large (2^28 = 1 GiB).
   */
  patchFloats: 2 ** 28,
  /** max_new_tokens / max_length (config or --max-new-tokens): DePlot tables need ~1k tokens. */
  newTokens: 65536,
  /** num_beams: examples use 1-5; each beam is a whole decoder batch row. */
  beams: 64,
} as const;

export type ConfigLimit = keyof typeof CONFIG_LIMITS;
