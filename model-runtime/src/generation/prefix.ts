import { UsageError } from '../errors';
import type { DecoderStepper, GenerationLimits } from './stepper';
import { throwIfAborted } from './stopping';

/** Tokens per decoder call while feeding a prefix: each call returns T x vocab logits (64 x 50k floats = 13 MB). */
const PREFIX_CHUNK = 64;

/**
 * Puts `ids` into the decoder's KV cache as if they had just been generated, so the next step
 * continues after them. Decoders that take several tokens per call get them in chunks;
 * others one step per token.
 */
export async function feedPrefix(decoder: DecoderStepper, ids: readonly number[], signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < ids.length; ) {
    throwIfAborted(signal);
    if (decoder.forward) {
      const chunk = ids.slice(i, i + PREFIX_CHUNK);
      await decoder.forward([chunk]);
      i += chunk.length;
    } else {
      await decoder.step([ids[i]!]);
      i++;
    }
  }
}

/**
 * A prefix to continue must be what generation returned when the budget ran out: the decoder
 * start id, then token ids in the vocabulary, and no eos (an answer that ended cannot go on).
 */
export function checkContinuablePrefix(prefix: readonly number[], limits: GenerationLimits, vocabSize: number): void {
  if (prefix[0] !== limits.decoderStartTokenId) throw new UsageError(`a prefix to continue starts with the decoder start id ${limits.decoderStartTokenId}, got ${prefix[0]}`);
  const bad = prefix.find((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize);
  if (bad !== undefined) throw new UsageError(`a prefix to continue holds ${bad}, which is not a token id (vocabulary ${vocabSize})`);
  if (prefix.slice(1).some((t) => limits.eosTokenIds.includes(t))) throw new UsageError('that answer already ended (eos): there is nothing to continue');
}
