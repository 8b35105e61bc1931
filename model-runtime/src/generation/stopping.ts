import { AbortError } from '../errors';

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
