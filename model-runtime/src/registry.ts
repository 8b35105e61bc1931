/**
 * Every public Pix2Struct-family checkpoint a user can pick, with what it is for and how to
 * feed it. Users add their own entries (local folders or Hub ids) through `customEntry`.
 */
export type Pix2StructTask =
  | 'screenshot-parsing'
  | 'captioning'
  | 'screen-summary'
  | 'widget-captioning'
  | 'refexp'
  | 'chart-qa'
  | 'doc-vqa'
  | 'infographic-vqa'
  | 'ocr-vqa'
  | 'ai2d'
  | 'chart-to-table'
  | 'chart-summary'
  | 'custom';

/** What the generated text is, so the UI knows how to show it. */
export type OutputKind = 'html' | 'caption' | 'answer' | 'option' | 'true-false' | 'table';

export type ModelSize = 'base' | 'large';

export interface RegistryEntry {
  /** Hugging Face Hub id, or a local folder for custom entries. */
  id: string;
  task: Pix2StructTask;
  size: ModelSize;
  parameters: number;
  /** float32 weights on disk. */
  downloadBytes: number;
  /** The question is rendered as a header above the image. */
  isVqa: boolean;
  /** The paper's setting for the size: more patches read small text better but cost time. */
  recommendedMaxPatches: number;
  output: OutputKind;
  family: 'pix2struct' | 'matcha' | 'deplot';
  description: string;
  /** Not published by Google. */
  community?: boolean;
  /** New tokens a run may take unless the user or generation_config.json says otherwise. */
  maxNewTokens: number;
}

/**
 * Token budgets by what the output is. Tables and HTML parses run to hundreds of tokens (DePlot's
 * model card generates with max_new_tokens=512; a phone screen's parse is several hundred);
 * captions, summaries and answers end within a few dozen, so a runaway repetition stops early.
 */
export const MAX_NEW_TOKENS_BY_OUTPUT: Readonly<Record<OutputKind, number>> = {
  html: 512,
  table: 512,
  caption: 64,
  answer: 32,
  option: 32,
  'true-false': 4,
};

/** Tasks whose outputs run longer than their kind's: Chart-to-Text summaries are paragraphs. */
const MAX_NEW_TOKENS_BY_TASK: Readonly<Partial<Record<Pix2StructTask, number>>> = {
  'chart-summary': 256,
};

/** The budget where the output kind is unknown (a folder the registry does not know). */
export const DEFAULT_MAX_NEW_TOKENS = 128;

/** The default token budget of a task and output kind. */
export function maxNewTokensFor(task: Pix2StructTask, output: OutputKind): number {
  return MAX_NEW_TOKENS_BY_TASK[task] ?? MAX_NEW_TOKENS_BY_OUTPUT[output];
}

const SIZES: Record<ModelSize, { parameters: number; downloadBytes: number; maxPatches: number }> = {
  base: { parameters: 282e6, downloadBytes: 1.13e9, maxPatches: 2048 },
  large: { parameters: 1.34e9, downloadBytes: 5.34e9, maxPatches: 4096 },
};

function entry(id: string, size: ModelSize, task: Pix2StructTask, output: OutputKind, isVqa: boolean, description: string, extra: Partial<RegistryEntry> = {}): RegistryEntry {
  const s = SIZES[size];
  return {
    id,
    task,
    size,
    parameters: s.parameters,
    downloadBytes: s.downloadBytes,
    isVqa,
    recommendedMaxPatches: s.maxPatches,
    output,
    family: id.includes('matcha') ? 'matcha' : id.includes('deplot') ? 'deplot' : 'pix2struct',
    description,
    maxNewTokens: maxNewTokensFor(task, output),
    ...extra,
  };
}

function bothSizes(stem: string, task: Pix2StructTask, output: OutputKind, isVqa: boolean, description: string, extra: Partial<RegistryEntry> = {}): RegistryEntry[] {
  return (['base', 'large'] as const).map((size) => entry(`${stem}-${size}`, size, task, output, isVqa, description, extra));
}

export const REGISTRY: readonly RegistryEntry[] = [
  ...bothSizes('google/pix2struct', 'screenshot-parsing', 'html', false, 'Pretrained: parses a screenshot into simplified HTML (UI structure)'),
  ...bothSizes('google/pix2struct-textcaps', 'captioning', 'caption', false, 'Captions natural images, reading the text in them (TextCaps)'),
  ...bothSizes('google/pix2struct-screen2words', 'screen-summary', 'caption', false, 'Summarises a mobile screen in a sentence (Screen2Words)'),
  ...bothSizes('google/pix2struct-widget-captioning', 'widget-captioning', 'caption', false, 'Describes the UI element inside the drawn box (Widget Captioning)'),
  ...bothSizes('gitlost-murali/pix2struct-refexp', 'refexp', 'true-false', true, 'Finds the UI element a phrase refers to by scoring candidate boxes (RICO RefExp; community conversion)', { community: true }),
  entry('google/pix2struct-chartqa-base', 'base', 'chart-qa', 'answer', true, 'Answers questions about charts (ChartQA)'),
  ...bothSizes('google/pix2struct-docvqa', 'doc-vqa', 'answer', true, 'Answers questions about scanned documents (DocVQA)'),
  ...bothSizes('google/pix2struct-infographics-vqa', 'infographic-vqa', 'answer', true, 'Answers questions about infographics (InfographicVQA)'),
  ...bothSizes('google/pix2struct-ocrvqa', 'ocr-vqa', 'answer', true, 'Answers questions about book covers (OCR-VQA)'),
  ...bothSizes('google/pix2struct-ai2d', 'ai2d', 'option', true, 'Picks the answer option for science diagrams (AI2D)'),
  entry('google/deplot', 'base', 'chart-to-table', 'table', true, 'Turns a chart or plot into its data table (DePlot)'),
  entry('google/matcha-base', 'base', 'screenshot-parsing', 'html', false, 'MatCha pretrained on chart derendering and math reasoning; fine-tune before use'),
  entry('google/matcha-chartqa', 'base', 'chart-qa', 'answer', true, 'MatCha answering questions about charts (ChartQA)'),
  entry('google/matcha-plotqa-v1', 'base', 'chart-qa', 'answer', true, 'MatCha answering questions about plots (PlotQA v1)'),
  entry('google/matcha-plotqa-v2', 'base', 'chart-qa', 'answer', true, 'MatCha answering questions about plots (PlotQA v2)'),
  entry('google/matcha-chart2text-statista', 'base', 'chart-summary', 'caption', true, 'MatCha summarising charts (Chart-to-Text, Statista)'),
  entry('google/matcha-chart2text-pew', 'base', 'chart-summary', 'caption', true, 'MatCha summarising charts (Chart-to-Text, Pew)'),
];

/** The checkpoint each task uses unless the user picks another. */
export const DEFAULT_MODEL_FOR_TASK: Readonly<Partial<Record<Pix2StructTask, string>>> = {
  'screenshot-parsing': 'google/pix2struct-base',
  captioning: 'google/pix2struct-textcaps-base',
  'screen-summary': 'google/pix2struct-screen2words-base',
  'widget-captioning': 'google/pix2struct-widget-captioning-base',
  refexp: 'gitlost-murali/pix2struct-refexp-base',
  'chart-qa': 'google/matcha-chartqa',
  'doc-vqa': 'google/pix2struct-docvqa-base',
  'infographic-vqa': 'google/pix2struct-infographics-vqa-base',
  'ocr-vqa': 'google/pix2struct-ocrvqa-base',
  ai2d: 'google/pix2struct-ai2d-base',
  'chart-to-table': 'google/deplot',
  'chart-summary': 'google/matcha-chart2text-statista',
};

export function findRegistryEntry(id: string): RegistryEntry | undefined {
  return REGISTRY.find((e) => e.id === id);
}

/** A user's own checkpoint (Hub id or folder) described in the same terms as the built-in ones. */
export function customEntry(id: string, options: { task?: Pix2StructTask; isVqa: boolean; size?: ModelSize; output?: OutputKind; description?: string }): RegistryEntry {
  const size = options.size ?? 'base';
  return entry(id, size, options.task ?? 'custom', options.output ?? 'caption', options.isVqa, options.description ?? 'User-added checkpoint');
}
