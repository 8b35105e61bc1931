/**
 * What generation needs from a decoder: the next-token logits for each row, given one new
 * token per row. `reorder` (beam search) first selects which cached rows continue, by index.
 */
export interface DecoderStepper {
  readonly vocabSize: number;
  step(tokens: readonly number[], reorder?: readonly number[]): Promise<Float32Array>; // [rows, vocab]
}

export interface GenerationLimits {
  decoderStartTokenId: number;
  eosTokenIds: readonly number[];
  padTokenId: number;
  /** Generated tokens at most, not counting the decoder start token. */
  maxNewTokens: number;
  signal?: AbortSignal;
}
