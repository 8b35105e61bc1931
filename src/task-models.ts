import * as vscode from 'vscode';
import { checkpointStatus } from './checkpoint-status';
import { TASK_IDS } from './protocol/describe-result';
import type { TaskModelInfo } from './protocol/panel';
import { hubCacheDir, readSettings } from './settings';

/** Per task: the checkpoint its setting names and whether it is on this machine. */
export function taskModels(): TaskModelInfo[] {
  const { models, onnxVariant } = readSettings();
  return TASK_IDS.map((task) => {
    const s = checkpointStatus(models[task], { cacheDir: hubCacheDir(), onnxVariant });
    return { task, model: s.setting, name: s.name, state: s.state, available: s.available };
  });
}

/** Calls `post` now and whenever a pix2struct setting changes. */
export function watchTaskModels(post: (models: TaskModelInfo[]) => void): vscode.Disposable {
  post(taskModels());
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('pix2struct')) post(taskModels());
  });
}
