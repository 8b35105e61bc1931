import { UsageError } from '../errors';

/*
 * Header texts, built the way pix2struct's converters built the training inputs, since a
 * fine-tuned checkpoint only understands the phrasing it was trained on.
 */

/**
 * DePlot's fixed prompt (from its model card); it is rendered as a header like a VQA question.
 */
export const DEPLOT_PROMPT = 'Generate underlying data table of the figure below:';

/** AI2D labels options a, b, c, ... (string.ascii_lowercase), so at most 26 fit. */
export const AI2D_MAX_OPTIONS = 26;

/**
 * convert_ai2d.py's header: `f"{question} {options}"` with options joined as
 * "(a) first (b) second ...". The model was trained to answer with the option's text.
 */
export function ai2dHeader(question: string, options: readonly string[]): string {
  if (question.trim() === '') throw new UsageError('AI2D question is empty');
  if (options.length === 0) throw new UsageError('AI2D needs at least one answer option');
  if (options.length > AI2D_MAX_OPTIONS) {
    throw new UsageError(`AI2D options are lettered a-z, so at most ${AI2D_MAX_OPTIONS} fit; got ${options.length}`);
  }
  const lettered = options.map((option, i) => `(${optionLetter(i)}) ${option}`).join(' ');
  return `${question} ${lettered}`;
}

/** "a" for 0, "b" for 1, ... */
export function optionLetter(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= AI2D_MAX_OPTIONS) {
    throw new UsageError(`option index must be 0..${AI2D_MAX_OPTIONS - 1}, got ${index}`);
  }
  return String.fromCharCode(97 + index);
}

/**
 * convert_refexp.py uses the referring expression itself, unchanged, as the header; the box
 * drawn on the screenshot says which candidate is being asked about.
 */
export function refExpHeader(expression: string): string {
  if (expression.trim() === '') throw new UsageError('referring expression is empty');
  return expression;
}
