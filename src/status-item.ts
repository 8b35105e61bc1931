import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { PrecisionInfo } from './protocol/common';

/** The status bar item names the loaded checkpoint, the execution provider and the precision it runs in. */
const loaded = new WeakMap<vscode.StatusBarItem, { model: string; provider: string; precision: PrecisionInfo } | undefined>();

const shortName = (model: string) => (/^[\w-][\w.-]*\/[\w.-]+$/.test(model) ? model.split('/')[1]! : path.basename(model));

export function showModelRunning(status: vscode.StatusBarItem, model: string): void {
  status.text = `$(loading~spin) Pix2Struct: ${shortName(model)}`;
  status.tooltip = `Pix2Struct is running ${model}. Click to show the log.`;
  status.accessibilityInformation = { label: `Pix2Struct is running ${shortName(model)}`, role: 'status' };
  status.show();
}

export function showModelLoaded(status: vscode.StatusBarItem, model: string, provider: string, precision: PrecisionInfo): void {
  loaded.set(status, { model, provider, precision });
  status.text = `$(eye) Pix2Struct: ${shortName(model)} (${provider}, ${precision.used})`;
  status.tooltip = `Loaded model: ${model}\nExecution provider: ${provider}\nPrecision: ${precision.used} (${precision.reason})\nClick to show the log.`;
  status.accessibilityInformation = { label: `Pix2Struct model ${shortName(model)} loaded on ${provider} in ${precision.used}`, role: 'status' };
  status.show();
}

/** After a failed or stopped run: back to what was loaded before, if anything. */
export function showModelSettled(status: vscode.StatusBarItem): void {
  const last = loaded.get(status);
  if (last) showModelLoaded(status, last.model, last.provider, last.precision);
  else showModelUnloaded(status);
}

export function showModelUnloaded(status: vscode.StatusBarItem): void {
  loaded.set(status, undefined);
  status.text = '$(eye-closed) Pix2Struct';
  status.tooltip = 'No Pix2Struct model loaded (it loads on the next run). Click to show the log.';
  status.accessibilityInformation = { label: 'No Pix2Struct model loaded', role: 'status' };
  status.show();
}
