import type { GenerationDefaults } from '../checkpoint/config';
import { UsageError } from '../errors';
import { beamSearch } from './beam-search';
import { greedySearch } from './greedy';
import type { TopK } from './logits';
import type { DecoderStepper, GenerationLimits } from './stepper';
import type { TokenCallback } from './streamer';

export interface GenerateOptions {
  maxNewTokens?: number;
  numBeams?: number;
  /** Overrides the checkpoint's eos id(s); [] disables stopping on eos. */
  eosTokenId?: number | number[];
  lengthPenalty?: number;
  earlyStopping?: boolean | 'never';
  onToken?: TokenCallback;
  signal?: AbortSignal;
}

export interface GenerateResult {
  tokenIds: number[];
  /** Greedy only: top-5 raw logits per step. */
  steps: TopK[] | null;
  /** Beam search only. */
  sequenceScore: number | null;
  /** Wall time of the decoding loop. */
  decodeMs: number;
}

/**
 * Greedy or beam search over a fresh decoder for one image, with the checkpoint's
 * generation_config.json as defaults, the way transformers' generate() resolves them.
 */
/** Options over generation_config.json defaults, as transformers' generate() resolves them. */
export function resolveLimits(defaults: GenerationDefaults, options: Pick<GenerateOptions, 'maxNewTokens' | 'eosTokenId' | 'signal'>): GenerationLimits {
  const eos = options.eosTokenId ?? defaults.eosTokenIds;
  const maxNewTokens = options.maxNewTokens ?? defaults.maxNewTokens ?? defaults.maxLength - 1;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new UsageError(`max new tokens must be a positive integer, got ${maxNewTokens}`);
  return {
    decoderStartTokenId: defaults.decoderStartTokenId,
    eosTokenIds: Array.isArray(eos) ? eos : [eos],
    padTokenId: defaults.padTokenId,
    maxNewTokens,
    signal: options.signal,
  };
}

export async function generateWith(decoder: DecoderStepper, defaults: GenerationDefaults, options: GenerateOptions = {}): Promise<GenerateResult> {
  const limits = resolveLimits(defaults, options);
  const numBeams = options.numBeams ?? defaults.numBeams;
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new UsageError(`number of beams must be a positive integer, got ${numBeams}`);
  const start = performance.now();
  if (numBeams === 1) {
    const { tokenIds, steps } = await greedySearch(decoder, limits, options.onToken);
    return { tokenIds, steps, sequenceScore: null, decodeMs: performance.now() - start };
  }
  const { tokenIds, sequenceScore } = await beamSearch(decoder, limits, {
    numBeams,
    lengthPenalty: options.lengthPenalty ?? defaults.lengthPenalty,
    earlyStopping: options.earlyStopping ?? defaults.earlyStopping,
  });
  // Beam search only knows its answer at the end; stream it then.
  tokenIds.slice(1).forEach((tokenId, step) => options.onToken?.({ step, tokenId }));
  return { tokenIds, steps: null, sequenceScore, decodeMs: performance.now() - start };
}
