/** Task-specific inputs and output parsing for the fine-tuned Pix2Struct checkpoints. */
export {
  DEFAULT_BOX_COLOR,
  DEFAULT_BOX_WIDTH,
  RICO_CANVAS_HEIGHT,
  drawBox,
  normalizedToPixelBox,
  pixelToNormalizedBox,
  ricoBoundsToPixelBox,
  roundHalfEven,
  type DrawBoxOptions,
  type NormalizedBox,
  type PixelBox,
  type Rgb,
} from './boxes';
export { AI2D_MAX_OPTIONS, DEPLOT_PROMPT, ai2dHeader, optionLetter, refExpHeader } from './prompts';
export { ai2dInput, refExpInputs, widgetCaptioningInput } from './inputs';
export {
  parseAi2dAnswer,
  rankRefExpCandidates,
  trueFalseTokenProbability,
  type RankedRefExpCandidate,
  type RefExpRankingMethod,
  type RefExpScore,
} from './answers';
export { parseDeplotTable, toCsv, toMarkdown, type DeplotTable, type ParsedDeplotTable } from './deplot';
export { isNumericCell, numericColumns, parseNumericCell, type NumericCell } from './numeric-cell';
export { flattenUiTree, parseUiStructure, type UiNode, type UiParse, type UiParseIssue } from './ui-structure';
export { findElement, type FindElementOptions } from './run-refexp';
