import * as vscode from 'vscode';
import { TRAINING_TASKS, type HostTarget, type RunSpec, type TpuTrainingOptions, type TrainingTask } from '../../training/launcher/types';
import {
  BATCH_SIZE, LEARNING_RATE, MAX_PATCHES, STEPS, acceleratorTypeError, baseModelError, bucketError, buildRunSpec, defaultRunName, ginSizeFor,
  numberError, parseNumber, remotePathError, runNameError, sshHostError, tpuNameError, zoneError, type NumberRule,
} from './fine-tune-inputs';
import { baseModelChoices, defaultBaseModel, TRAINING_TASK_INFO } from './task-mapping';

export interface FineTuneRequest {
  spec: RunSpec;
  target: HostTarget;
}

const TPU_RUNTIME_VERSION = 'tpu-ubuntu2204-base';

interface Step {
  title: string;
}

/** Asks for everything a run needs; undefined when the user cancels at any step. */
export async function askFineTune(listHosts: () => Promise<string[]>, defaultHost: string, python: string | undefined): Promise<FineTuneRequest | undefined> {
  const title = (n: number, what: string): Step => ({ title: `Fine-tune on Remote Host (${n}/9): ${what}` });

  const taskPick = await vscode.window.showQuickPick(
    TRAINING_TASKS.map((task) => ({ label: TRAINING_TASK_INFO[task].label, description: task, detail: TRAINING_TASK_INFO[task].detail, task })),
    { ...title(1, 'task'), placeHolder: 'What should the model learn? (pick the dataset format)', ignoreFocusOut: true, matchOnDescription: true },
  );
  if (!taskPick) return undefined;
  const task: TrainingTask = taskPick.task;

  const dataset = await askDataset(task, title(2, 'dataset'));
  if (!dataset) return undefined;

  const baseModel = await askBaseModel(task, title(3, 'base checkpoint'));
  if (!baseModel) return undefined;

  const target = await askHost(listHosts, defaultHost, title(4, 'host'));
  if (!target) return undefined;

  const steps = await askNumber(STEPS, '1000', 'Training steps', title(5, 'steps'));
  if (steps === undefined) return undefined;
  const batchSize = await askNumber(BATCH_SIZE, '8', 'Examples per step (per device)', title(6, 'batch size'));
  if (batchSize === undefined) return undefined;
  const learningRate = await askNumber(LEARNING_RATE, '0.01', 'Peak learning rate for Adafactor (e.g. 0.01, or 1e-4)', title(7, 'learning rate'));
  if (learningRate === undefined) return undefined;
  const patches = String(baseModelChoices(task).find((e) => e.id === baseModel)?.recommendedMaxPatches ?? 2048);
  const maxPatches = await askNumber(MAX_PATCHES, patches, 'Image patches per example: more reads small text better, costs memory', title(8, 'max patches'));
  if (maxPatches === undefined) return undefined;

  const name = await vscode.window.showInputBox({
    ...title(9, 'name'),
    prompt: 'A name to recognise the run by',
    value: defaultRunName(task, new Date()),
    validateInput: runNameError,
    ignoreFocusOut: true,
  });
  if (name === undefined) return undefined;

  let tpu: TpuTrainingOptions | undefined;
  if (target.kind === 'tpu-vm') {
    const bucket = await vscode.window.showInputBox({
      ...title(9, 'bucket'),
      prompt: 'Cloud Storage location for the converted data and t5x checkpoints (the README\'s PIX2STRUCT_DIR)',
      placeHolder: 'gs://my-bucket/pix2struct',
      validateInput: bucketError,
      ignoreFocusOut: true,
    });
    if (bucket === undefined) return undefined;
    tpu = { bucket: bucket.trim(), ginSize: ginSizeFor(baseModel) };
  }
  const spec = buildRunSpec({ name, task, dataset, baseModel, backend: target.kind === 'tpu-vm' ? 'tpu' : 'gpu', steps, batchSize, learningRate, maxPatches, python, ...(tpu ? { tpu } : {}) });
  return { spec, target };
}

async function askDataset(task: TrainingTask, step: Step): Promise<RunSpec['dataset'] | undefined> {
  const where = await vscode.window.showQuickPick(
    [
      { label: '$(folder) Folder on this computer…', detail: `Uploaded to the host with the run (${TRAINING_TASK_INFO[task].label} layout)`, location: 'local' as const },
      { label: '$(remote) Folder on the host…', detail: 'Already on the training machine: an absolute path or ~/…', location: 'remote' as const },
    ],
    { ...step, placeHolder: 'Where is the dataset?', ignoreFocusOut: true },
  );
  if (!where) return undefined;
  if (where.location === 'local') {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use Dataset Folder', title: step.title });
    return picked?.[0] ? { format: task, path: picked[0].fsPath, location: 'local' } : undefined;
  }
  const remote = await vscode.window.showInputBox({ ...step, prompt: 'Dataset folder on the host', placeHolder: '/data/screen2words or ~/datasets/docvqa', validateInput: remotePathError, ignoreFocusOut: true });
  return remote === undefined ? undefined : { format: task, path: remote.trim(), location: 'remote' };
}

async function askBaseModel(task: TrainingTask, step: Step): Promise<string | undefined> {
  const suggested = defaultBaseModel(task);
  const items: (vscode.QuickPickItem & { id?: string })[] = [
    ...baseModelChoices(task).map((e) => ({
      label: e.id,
      description: `${e.size}${e.id === suggested ? ' · suggested' : ''}${e.community ? ' · community' : ''}`,
      detail: e.description,
      id: e.id,
    })),
    { label: '$(edit) Other Hub id or checkpoint folder on the host…' },
  ];
  const picked = await vscode.window.showQuickPick(items, { ...step, placeHolder: 'Start from which checkpoint?', ignoreFocusOut: true, matchOnDetail: true });
  if (!picked) return undefined;
  if (picked.id) return picked.id;
  const typed = await vscode.window.showInputBox({ ...step, prompt: 'Hugging Face Hub id or checkpoint folder on the host', placeHolder: 'owner/name or /path/on/host', validateInput: baseModelError, ignoreFocusOut: true });
  return typed?.trim() || undefined;
}

async function askHost(listHosts: () => Promise<string[]>, defaultHost: string, step: Step): Promise<HostTarget | undefined> {
  let hosts: string[] = [];
  let listError: string | undefined;
  try {
    hosts = await listHosts();
  } catch (err) {
    listError = (err as Error).message;
  }
  if (defaultHost && !sshHostError(defaultHost)) hosts = [defaultHost, ...hosts.filter((h) => h !== defaultHost)];
  type HostItem = vscode.QuickPickItem & { host?: string; other?: 'ssh' | 'tpu' };
  const items: HostItem[] = [
    ...hosts.map((host) => ({ label: `$(remote) ${host}`, description: host === defaultHost ? 'default' : undefined, host })),
    { label: '$(edit) Other SSH host…', detail: 'user@host, reached with your ssh keys and known_hosts', other: 'ssh' },
    { label: '$(chip) Cloud TPU VM…', detail: 'Created through the gcloud CLI for the run (billed by Google Cloud)', other: 'tpu' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    ...step,
    placeHolder: listError ? `Could not read ~/.ssh/config (${listError}); pick another way` : hosts.length ? 'Train where? (hosts from ~/.ssh/config)' : 'No hosts in ~/.ssh/config: type one or use a Cloud TPU VM',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.host) return { kind: 'ssh', host: picked.host };
  if (picked.other === 'ssh') {
    const typed = await vscode.window.showInputBox({ ...step, prompt: 'SSH host (alias or user@host)', validateInput: sshHostError, ignoreFocusOut: true });
    return typed ? { kind: 'ssh', host: typed.trim() } : undefined;
  }
  return askTpu(step);
}

async function askTpu(step: Step): Promise<HostTarget | undefined> {
  const name = await vscode.window.showInputBox({ ...step, prompt: 'TPU VM name (reused if it exists, created otherwise)', value: 'pix2struct-tpu', validateInput: tpuNameError, ignoreFocusOut: true });
  if (!name) return undefined;
  const zone = await vscode.window.showInputBox({ ...step, prompt: 'Zone', value: 'us-central2-b', validateInput: zoneError, ignoreFocusOut: true });
  if (!zone) return undefined;
  const acceleratorType = await vscode.window.showInputBox({ ...step, prompt: 'Accelerator type', value: 'v4-8', validateInput: acceleratorTypeError, ignoreFocusOut: true });
  if (!acceleratorType) return undefined;
  const keep = await vscode.window.showQuickPick(
    [
      { label: 'Delete the TPU VM when the run ends', keep: false },
      { label: 'Keep the TPU VM after the run', detail: 'It keeps billing until you delete it', keep: true },
    ],
    { ...step, placeHolder: 'After the run', ignoreFocusOut: true },
  );
  if (!keep) return undefined;
  const ok = await vscode.window.showWarningMessage(
    `A Cloud TPU VM (${acceleratorType.trim()} in ${zone.trim()}) is billed to your Google Cloud project for as long as it exists` +
      (keep.keep ? ', including after the run until you delete it.' : ', until the run ends and it is deleted.'),
    { modal: true },
    'Create and Train',
  );
  if (ok !== 'Create and Train') return undefined;
  return { kind: 'tpu-vm', name: name.trim(), zone: zone.trim(), acceleratorType: acceleratorType.trim(), runtimeVersion: TPU_RUNTIME_VERSION, keepAfterRun: keep.keep };
}

async function askNumber(rule: NumberRule, value: string, prompt: string, step: Step): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({ ...step, prompt, value, validateInput: numberError(rule), ignoreFocusOut: true });
  if (text === undefined) return undefined;
  const r = parseNumber(text, rule);
  return 'value' in r ? r.value : undefined;
}
