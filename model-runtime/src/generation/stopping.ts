import { AbortError } from '../errors';

/**
 * Why generation ended: the model chose eos, the token budget ran out (the answer may be cut
 * short and can be continued), or the caller cancelled and asked for the tokens so far.
 */
export type StopReason = 'eos' | 'budget' | 'cancelled';

/** Throws when the caller cancelled; checked before every decoding step. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason = signal.reason;
    throw new AbortError(reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined);
  }
}

/** transformers counts max_length over the whole decoder sequence, start token included. */
export function reachedMaxLength(sequenceLength: number, maxNewTokens: number): boolean {
  return sequenceLength >= maxNewTokens + 1;
}

/** eos when the last token is one, else the budget: what ended a sequence that was not cancelled. */
export function endedBy(tokenIds: readonly number[], eosTokenIds: readonly number[]): StopReason {
  return tokenIds.length > 1 && eosTokenIds.includes(tokenIds[tokenIds.length - 1]!) ? 'eos' : 'budget';
}
