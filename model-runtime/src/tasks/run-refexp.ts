import type { Pix2StructModel } from '../model';
import { preprocessImage } from '../preprocess/index';
import type { RgbImage } from '../preprocess/rgb-image';
import { rankRefExpCandidates, type RankedRefExpCandidate, type RefExpRankingMethod } from './answers';
import type { DrawBoxOptions, PixelBox } from './boxes';
import { refExpInputs } from './inputs';

export interface FindElementOptions {
  /** Token ids the checkpoint answers with (the tokenizer's first id for "true" and "false"). */
  trueTokenId: number;
  falseTokenId: number;
  maxPatches?: number;
  /** Candidates per encoder/decoder call. */
  batchSize?: number;
  method?: RefExpRankingMethod;
  box?: DrawBoxOptions;
  signal?: AbortSignal;
}

/**
 * RefExp: which candidate box does `expression` refer to? Each candidate becomes its own
 * input (box drawn, expression as header); a batch of them is encoded at once and one decoder
 * step scores "true" against "false" for all. Best candidate first.
 */
export async function findElement(
  model: Pix2StructModel,
  screenshot: RgbImage,
  expression: string,
  candidates: readonly PixelBox[],
  options: FindElementOptions,
): Promise<RankedRefExpCandidate[]> {
  const inputs = await refExpInputs(screenshot, expression, candidates, options.box);
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const scores: { candidate: number; trueLogprob: number; falseLogprob: number }[] = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('cancelled');
    const chunk = inputs.slice(start, start + batchSize);
    const images = await Promise.all(chunk.map((im) => preprocessImage(im, model.checkpoint.preprocessor, { maxPatches: options.maxPatches })));
    const encoding = await model.encodeBatch(images);
    const logprobs = await model.firstTokenLogprobs(encoding, [options.trueTokenId, options.falseTokenId]).finally(() => model.releaseEncoding(encoding)); // [chunk][2]
    logprobs.forEach(([t, f], i) => scores.push({ candidate: start + i, trueLogprob: t!, falseLogprob: f! }));
  }
  return rankRefExpCandidates(scores, { method: options.method });
}
