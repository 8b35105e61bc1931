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
