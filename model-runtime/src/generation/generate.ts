import { CONFIG_LIMITS } from '../checkpoint/config-limits';
import type { GenerationDefaults } from '../checkpoint/config';
import { UsageError } from '../errors';
import { beamSearch } from './beam-search';
import { greedySearch } from './greedy';
import type { TopK } from './logits';
import { checkContinuablePrefix } from './prefix';
import type { DecoderStepper, GenerationLimits } from './stepper';
import type { StopReason } from './stopping';
import type { TokenCallback } from './streamer';

export type { StopReason } from './stopping';

export interface GenerateOptions {
  /** New tokens at most; a continuation gets this many more after its prefix. */
  maxNewTokens?: number;
  numBeams?: number;
  /** Overrides the checkpoint's eos id(s); [] disables stopping on eos. */
  eosTokenId?: number | number[];
  lengthPenalty?: number;
  earlyStopping?: boolean | 'never';
  /**
   * Continues an answer the budget cut short: the token ids it returned (decoder start id
   * first, no eos) are fed through the decoder as a forced prefix, then greedy decoding goes on.
   * The result's tokenIds hold the prefix too; onToken steps count on from it.
   */
  prefixIds?: readonly number[];
  /** Greedy: an abort returns the tokens so far (stoppedBy 'cancelled') instead of throwing AbortError. */
  returnPartialOnAbort?: boolean;
  onToken?: TokenCallback;
  signal?: AbortSignal;
}

export interface GenerateResult {
  tokenIds: number[];
  /** Greedy only: top-5 raw logits per step (of this call: a continued prefix has none). */
  steps: TopK[] | null;
  /** Beam search only. */
  sequenceScore: number | null;
  /** Whether eos or the budget ended the answer (or a cancel, where asked to return then). */
  stoppedBy: StopReason;
  /** Wall time of the decoding loop. */
  decodeMs: number;
}

/** Options over generation_config.json defaults, as transformers' generate() resolves them. */
export function resolveLimits(defaults: GenerationDefaults, options: Pick<GenerateOptions, 'maxNewTokens' | 'eosTokenId' | 'signal'>): GenerationLimits {
  const eos = options.eosTokenId ?? defaults.eosTokenIds;
  const maxNewTokens = options.maxNewTokens ?? defaults.maxNewTokens ?? defaults.maxLength - 1;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new UsageError(`max new tokens must be a positive integer, got ${maxNewTokens}`);
  if (maxNewTokens > CONFIG_LIMITS.newTokens) throw new UsageError(`max new tokens ${maxNewTokens} is over the limit of ${CONFIG_LIMITS.newTokens}`);
  return {
    decoderStartTokenId: defaults.decoderStartTokenId,
    eosTokenIds: Array.isArray(eos) ? eos : [eos],
    padTokenId: defaults.padTokenId,
    maxNewTokens,
    signal: options.signal,
  };
}

/**
 * Greedy or beam search over a fresh decoder for one image, with the checkpoint's
 * generation_config.json as defaults, the way transformers' generate() resolves them.
 */
export async function generateWith(decoder: DecoderStepper, defaults: GenerationDefaults, options: GenerateOptions = {}): Promise<GenerateResult> {
  const limits = resolveLimits(defaults, options);
  const prefix = options.prefixIds;
  if (prefix) checkContinuablePrefix(prefix, limits, decoder.vocabSize);
  // A continuation is greedy: the beams that led to the prefix are gone.
  const numBeams = prefix ? (options.numBeams ?? 1) : (options.numBeams ?? defaults.numBeams);
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new UsageError(`number of beams must be a positive integer, got ${numBeams}`);
  if (prefix && numBeams > 1) throw new UsageError('continuing an answer is greedy only: use 1 beam');
  const start = performance.now();
  if (numBeams === 1) {
    const { tokenIds, steps, stoppedBy } = await greedySearch(decoder, limits, { onToken: options.onToken, prefix, returnPartialOnAbort: options.returnPartialOnAbort });
    return { tokenIds, steps, sequenceScore: null, stoppedBy, decodeMs: performance.now() - start };
  }
  const { tokenIds, sequenceScore, stoppedBy } = await beamSearch(decoder, limits, {
    numBeams,
    lengthPenalty: options.lengthPenalty ?? defaults.lengthPenalty,
    earlyStopping: options.earlyStopping ?? defaults.earlyStopping,
  });
  // Beam search only knows its answer at the end; stream it then.
  tokenIds.slice(1).forEach((tokenId, step) => options.onToken?.({ step, tokenId }));
  return { tokenIds, steps: null, sequenceScore, stoppedBy, decodeMs: performance.now() - start };
}
