import type { PreprocessorConfig } from '../checkpoint/config';
import { decodeImage } from './decode-image';
import { renderVqaHeader } from './header';
import { extractFlattenedPatches, type PreprocessedImage } from './patches';
import type { RgbImage } from './rgb-image';

export interface PreprocessOptions {
  maxPatches?: number;
  /** Rendered as a header above the image, as VQA checkpoints were trained. */
  headerText?: string;
}

/** Image file or pixels in, encoder inputs out, exactly as Pix2StructImageProcessor. */
export async function preprocessImage(source: string | Buffer | RgbImage, config: PreprocessorConfig, options: PreprocessOptions = {}): Promise<PreprocessedImage> {
  let image = typeof source === 'string' || Buffer.isBuffer(source) ? await decodeImage(source) : source;
  if (options.headerText !== undefined) image = await renderVqaHeader(image, options.headerText);
  return extractFlattenedPatches(image, {
    maxPatches: options.maxPatches ?? config.maxPatches,
    patchHeight: config.patchHeight,
    patchWidth: config.patchWidth,
    normalize: config.doNormalize,
  });
}

export type { PreprocessedImage } from './patches';
export type { RgbImage } from './rgb-image';
