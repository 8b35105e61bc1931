import { argmax, topK, type TopK } from './logits';
import type { DecoderStepper, GenerationLimits } from './stepper';
import { reachedMaxLength, throwIfAborted } from './stopping';
import type { TokenCallback } from './streamer';

export interface GreedyResult {
  tokenIds: number[];
  /** Top-5 raw logits of every step. */
  steps: TopK[];
}

/** Greedy decoding for one sequence, as transformers' greedy_search does it. */
export async function greedySearch(
  decoder: DecoderStepper,
  limits: GenerationLimits,
  onToken?: TokenCallback,
): Promise<GreedyResult> {
  const tokenIds = [limits.decoderStartTokenId];
  const steps: TopK[] = [];
  let next = limits.decoderStartTokenId;
  while (!reachedMaxLength(tokenIds.length, limits.maxNewTokens)) {
    throwIfAborted(limits.signal);
    const logits = await decoder.step([next]); // [1, vocab]
    steps.push(topK(logits, 5));
    next = argmax(logits);
    tokenIds.push(next);
    onToken?.({ step: steps.length - 1, tokenId: next });
    if (limits.eosTokenIds.includes(next)) break;
  }
  return { tokenIds, steps };
}

/**
 * Greedy decoding of several images at once (one decoder row each): the decoder reads its
 * weights once per step for all rows. As in transformers, a finished row keeps receiving
 * the pad token and its later outputs are ignored; the loop ends when every row is done.
 */
export async function greedySearchBatch(decoder: DecoderStepper, rows: number, limits: GenerationLimits): Promise<number[][]> {
  const sequences = Array.from({ length: rows }, () => [limits.decoderStartTokenId]);
  const finished = new Array<boolean>(rows).fill(false);
  let next = sequences.map((s) => s[0]!);
  // Every row has the same length as the decoder's cache: 1 + steps taken.
  for (let length = 1; !finished.every(Boolean) && !reachedMaxLength(length, limits.maxNewTokens); length++) {
    throwIfAborted(limits.signal);
    const logits = await decoder.step(next); // [rows, vocab]
    const vocab = decoder.vocabSize;
    next = sequences.map((seq, r) => {
      if (finished[r]) return limits.padTokenId;
      const token = argmax(logits.subarray(r * vocab, (r + 1) * vocab));
      seq.push(token);
      if (limits.eosTokenIds.includes(token)) finished[r] = true;
      return token;
    });
  }
  return sequences;
}
