import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  DEFAULT_MODEL_FOR_TASK,
  findCachedModel,
  findRegistryEntry,
  folderFormat,
  folderOnnxVariants,
  listOnnxVariants,
  REGISTRY,
  type OnnxVariantInfo,
  type OptimumVariant,
  type Pix2StructTask,
} from '../model-runtime/src/index';
import { resolveModelFolder } from './model-location';
import { decideVariant } from './onnx-variant-choice';
import { hubCacheDir, onnxVariantSetting } from './settings';
import type { TaskId } from './protocol/describe-result';

/** Which setting holds the checkpoint for each panel task, and the registry tasks that fit it. */
const TASK_SETTINGS: { task: TaskId; setting: string; label: string; fits: Pix2StructTask[] }[] = [
  { task: 'describe', setting: 'modelPath', label: 'Describe Image', fits: ['captioning', 'screen-summary', 'chart-summary'] },
  { task: 'ask', setting: 'questionModelPath', label: 'Ask About Image', fits: ['doc-vqa', 'chart-qa', 'infographic-vqa', 'ocr-vqa'] },
  { task: 'summarize', setting: 'summaryModelPath', label: 'Summarize Screen', fits: ['screen-summary'] },
  { task: 'ui', setting: 'uiModelPath', label: 'Parse UI Structure', fits: ['screenshot-parsing'] },
  { task: 'table', setting: 'chartModelPath', label: 'Chart to Data Table', fits: ['chart-to-table'] },
  { task: 'widget', setting: 'widgetModelPath', label: 'Caption Widget', fits: ['widget-captioning'] },
];

/**
 * The variants of an ONNX-export checkpoint (folder or Hub id); [] for one with weights. The
 * registry's checkpoints all have weights, so they cost no request.
 */
async function onnxVariantsOf(value: string, log: vscode.LogOutputChannel): Promise<OnnxVariantInfo[]> {
  if (fs.existsSync(value) && fs.statSync(value).isDirectory()) return folderFormat(value) === 'optimum-onnx' ? folderOnnxVariants(value) : [];
  if (findRegistryEntry(value)) return [];
  try {
    const listing = listOnnxVariants(value, { cacheDir: hubCacheDir() });
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Pix2Struct: listing the files of ${value}` }, () => listing);
  } catch (err) {
    // The download that follows reports the same failure, with its remedy.
    log.warn(`could not list the files of ${value}: ${(err as Error).message}`);
    return [];
  }
}

/** The ONNX variant to use for `value`: null when it has none to choose, undefined when the user cancelled. */
async function pickOnnxVariant(value: string, log: vscode.LogOutputChannel): Promise<OptimumVariant | null | undefined> {
  const decision = decideVariant(await onnxVariantsOf(value, log), onnxVariantSetting(), value);
  if (decision.kind === 'none') return null;
  if (decision.kind === 'only') return decision.variant;
  return (await vscode.window.showQuickPick(decision.items, { placeHolder: decision.placeHolder, matchOnDetail: true }))?.variant;
}

/**
 * Manage Models: pick a task, then a checkpoint for it (registry entries that fit, marked when
 * already in the Hugging Face cache, or a local folder); for an ONNX export, which of its variants
 * (saved in pix2struct.onnxVariant); downloads after asking, then saves it.
 */
export async function manageModels(log: vscode.LogOutputChannel): Promise<void> {
  const config = vscode.workspace.getConfiguration('pix2struct');
  const taskPick = await vscode.window.showQuickPick(
    TASK_SETTINGS.map((t) => ({ label: t.label, description: config.get<string>(t.setting), entry: t })),
    { placeHolder: 'Choose the model for which task?' },
  );
  if (!taskPick) return;
  const { entry } = taskPick;
  const folderItem = { label: '$(folder) Local folder…', id: '' };
  const hubItem = { label: '$(cloud-download) Another Hugging Face Hub id…', id: '' };
  const items = REGISTRY.filter((r) => entry.fits.includes(r.task)).map((r) => ({
    label: r.id,
    description: `${r.size} · ${(r.downloadBytes / 1e9).toFixed(1)} GB${findCachedModel(r.id, { cacheDir: hubCacheDir() }) ? ' · downloaded' : ''}${DEFAULT_MODEL_FOR_TASK[r.task] === r.id ? ' · default' : ''}`,
    detail: r.description,
    id: r.id,
  }));
  const picked = await vscode.window.showQuickPick([...items, folderItem, hubItem], { placeHolder: `Checkpoint for ${entry.label}`, matchOnDetail: true });
  if (!picked) return;
  let value = picked.id;
  if (picked === folderItem) {
    const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use This Checkpoint' });
    if (!folder?.[0]) return;
    value = folder[0].fsPath;
  } else if (picked === hubItem) {
    const id = await vscode.window.showInputBox({
      prompt: 'Hub id of a Pix2Struct checkpoint (e.g. your fine-tuned model)',
      placeHolder: 'org/name',
      validateInput: (v) => (/^[\w.-]+\/[\w.-]+$/.test(v.trim()) ? undefined : 'expected org/name'),
    });
    if (!id) return;
    value = id.trim();
  }
  const variant = await pickOnnxVariant(value, log);
  if (variant === undefined) return;
  // Saved before resolving, which downloads the variant the setting names.
  if (variant !== null) await config.update('onnxVariant', variant, vscode.ConfigurationTarget.Global);
  if (!(await resolveModelFolder(value, log))) return;
  await config.update(entry.setting, value, vscode.ConfigurationTarget.Global);
  const variantNote = variant ? ` (ONNX variant ${variant}, the pix2struct.onnxVariant setting for every ONNX export)` : '';
  void vscode.window.showInformationMessage(`Pix2Struct: ${entry.label} now uses ${value}${variantNote}`);
}
