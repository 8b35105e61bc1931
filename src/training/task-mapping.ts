// How a training task relates to the rest of the extension: which base checkpoint to suggest,
// and which per-task model setting a fine-tuned checkpoint should replace. Pure (no vscode).
import { DEFAULT_MODEL_FOR_TASK, REGISTRY, type Pix2StructTask, type RegistryEntry } from '../../model-runtime/src/index';
import type { TrainingTask } from '../../training/launcher/types';

/** The extension's model settings (section `pix2struct`), one per inference command. */
export type ModelSettingKey = 'modelPath' | 'questionModelPath' | 'summaryModelPath' | 'uiModelPath' | 'chartModelPath' | 'widgetModelPath';

export const MODEL_SETTINGS: readonly { key: ModelSettingKey; command: string }[] = [
  { key: 'modelPath', command: 'Describe Image' },
  { key: 'questionModelPath', command: 'Ask About Image' },
  { key: 'summaryModelPath', command: 'Summarize Screen' },
  { key: 'uiModelPath', command: 'Parse UI Structure' },
  { key: 'chartModelPath', command: 'Chart to Data Table' },
  { key: 'widgetModelPath', command: 'Caption Widget' },
];

export const TRAINING_TASK_INFO: Readonly<Record<TrainingTask, { label: string; detail: string; registryTask: Pix2StructTask; setting?: ModelSettingKey }>> = {
  textcaps: { label: 'TextCaps', detail: 'image captioning that reads text', registryTask: 'captioning', setting: 'modelPath' },
  chartqa: { label: 'ChartQA', detail: 'questions about charts', registryTask: 'chart-qa', setting: 'questionModelPath' },
  screen2words: { label: 'Screen2Words', detail: 'one-sentence screen summaries', registryTask: 'screen-summary', setting: 'summaryModelPath' },
  widget_captioning: { label: 'Widget Captioning', detail: 'describe the boxed UI element', registryTask: 'widget-captioning', setting: 'widgetModelPath' },
  refexp: { label: 'RefExp', detail: 'find the UI element a phrase refers to', registryTask: 'refexp' },
  docvqa: { label: 'DocVQA', detail: 'questions about scanned documents', registryTask: 'doc-vqa', setting: 'questionModelPath' },
  infographicvqa: { label: 'InfographicVQA', detail: 'questions about infographics', registryTask: 'infographic-vqa', setting: 'questionModelPath' },
  ocrvqa: { label: 'OCR-VQA', detail: 'questions about book covers', registryTask: 'ocr-vqa', setting: 'questionModelPath' },
  ai2d: { label: 'AI2D', detail: 'multiple-choice science diagrams', registryTask: 'ai2d', setting: 'questionModelPath' },
  custom: { label: 'Custom dataset', detail: 'your own image → text pairs', registryTask: 'custom' },
};

/**
 * The setting a checkpoint fine-tuned for `task` belongs in; undefined when no inference command
 * matches (RefExp, custom data): the user is asked.
 */
export function settingForTask(task: TrainingTask): ModelSettingKey | undefined {
  return TRAINING_TASK_INFO[task].setting;
}

/** Base checkpoints for `task`, the task's own fine-tuned model first, then the pretrained ones. */
export function baseModelChoices(task: TrainingTask): RegistryEntry[] {
  const registryTask = TRAINING_TASK_INFO[task].registryTask;
  const preferred = DEFAULT_MODEL_FOR_TASK[registryTask];
  const rank = (e: RegistryEntry) =>
    e.id === preferred ? 0 : e.task === registryTask ? 1 : e.task === 'screenshot-parsing' ? 2 : 3;
  return [...REGISTRY].sort((a, b) => rank(a) - rank(b) || (a.size === b.size ? 0 : a.size === 'base' ? -1 : 1));
}

/** The suggested base checkpoint: the task's published fine-tune, else the pretrained base. */
export function defaultBaseModel(task: TrainingTask): string {
  return DEFAULT_MODEL_FOR_TASK[TRAINING_TASK_INFO[task].registryTask] ?? 'google/pix2struct-base';
}
