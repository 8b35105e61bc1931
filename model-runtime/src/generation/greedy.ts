import { argmax, topK, type TopK } from './logits';
import { feedPrefix } from './prefix';
import type { DecoderStepper, GenerationLimits } from './stepper';
import { endedBy, reachedMaxLength, throwIfAborted, type StopReason } from './stopping';
import type { TokenCallback } from './streamer';

export interface GreedyOptions {
  onToken?: TokenCallback;
  /**
   * Ids an earlier run generated (decoder start id first, checked by the caller): they go
   * through the decoder first and up to `maxNewTokens` more follow them.
   */
  prefix?: readonly number[];
  /** An abort returns the tokens so far with stoppedBy 'cancelled' instead of throwing. */
  returnPartialOnAbort?: boolean;
}

export interface GreedyResult {
  /** The prefix (or the decoder start id), then this call's tokens. */
  tokenIds: number[];
  /** Top-5 raw logits of every step this call took. */
  steps: TopK[];
  stoppedBy: StopReason;
}

/** Greedy decoding for one sequence, as transformers' greedy_search does it. */
export async function greedySearch(decoder: DecoderStepper, limits: GenerationLimits, options: GreedyOptions = {}): Promise<GreedyResult> {
  const prefix = options.prefix ?? [limits.decoderStartTokenId];
  // All but the last prefix id fill the cache; the last is stepped like any chosen token, so a
  // continuation takes the same single-token steps as one longer run from there on.
  await feedPrefix(decoder, prefix.slice(0, -1), limits.signal);
  const earlier = prefix.length - 1;
  const tokenIds = [...prefix];
  const steps: TopK[] = [];
  let next = prefix[prefix.length - 1]!;
  while (!reachedMaxLength(tokenIds.length - earlier, limits.maxNewTokens)) {
    if (options.returnPartialOnAbort && limits.signal?.aborted) return { tokenIds, steps, stoppedBy: 'cancelled' };
    throwIfAborted(limits.signal);
    const logits = await decoder.step([next]); // [1, vocab]
    steps.push(topK(logits, 5));
    next = argmax(logits);
    tokenIds.push(next);
    options.onToken?.({ step: earlier + steps.length - 1, tokenId: next });
    if (limits.eosTokenIds.includes(next)) break;
  }
  return { tokenIds, steps, stoppedBy: endedBy(tokenIds, limits.eosTokenIds) };
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
