/**
 * What generation needs from a decoder: the next-token logits for each row, given one new
 * token per row. `reorder` (beam search) first selects which cached rows continue, by index.
 */
export interface DecoderStepper {
  readonly vocabSize: number;
  step(tokens: readonly number[], reorder?: readonly number[]): Promise<Float32Array>; // [rows, vocab]
  /**
   * Several tokens per row after the cached ones in one call ([rows, T, vocab] logits). Optional:
   * a forced prefix goes through it in a few calls instead of one step per token.
   */
  forward?(ids: readonly (readonly number[])[]): Promise<Float32Array>;
}

export interface GenerationLimits {
  decoderStartTokenId: number;
  eosTokenIds: readonly number[];
  padTokenId: number;
  /** Generated tokens at most, not counting the decoder start token (nor a continued prefix). */
  maxNewTokens: number;
  signal?: AbortSignal;
}
