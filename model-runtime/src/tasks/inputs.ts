import { renderHeaderText, stackHeader } from '../preprocess/header';
import type { RgbImage } from '../preprocess/rgb-image';
import { drawBox, type DrawBoxOptions, type PixelBox } from './boxes';
import { ai2dHeader, refExpHeader } from './prompts';

/*
 * Whole model inputs (before patch extraction) for the tasks whose input is more than
 * "screenshot, maybe with a question on top". The order of steps follows pix2struct's
 * converters: the box is drawn on the original screenshot first, then the header is stacked
 * above it, so when the header is wider than the screenshot both are resized together and the
 * box is resampled with the image.
 */

/** Widget Captioning: the screenshot with the widget's box drawn; no header. */
export function widgetCaptioningInput(image: RgbImage, box: PixelBox, options?: DrawBoxOptions): RgbImage {
  return drawBox(image, box, options);
}

/**
 * RefExp: one input per candidate box, each the screenshot with that candidate drawn and the
 * expression as header. The model answers "true" or "false" for each; rank the candidates with
 * rankRefExpCandidates. The header is rendered once and reused for every candidate.
 */
export async function refExpInputs(
  image: RgbImage,
  expression: string,
  candidates: readonly PixelBox[],
  options?: DrawBoxOptions,
): Promise<RgbImage[]> {
  const header = await renderHeaderText(refExpHeader(expression));
  return candidates.map((box) => stackHeader(header, drawBox(image, box, options)));
}

/** AI2D: the diagram with the question and its lettered options as header. */
export async function ai2dInput(image: RgbImage, question: string, options: readonly string[]): Promise<RgbImage> {
  const header = await renderHeaderText(ai2dHeader(question, options));
  return stackHeader(header, image);
}
