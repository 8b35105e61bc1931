/**
 * Whether the checkpoint a setting names is on this machine: a local folder that exists or is
 * missing, or a Hugging Face Hub id that is (or is not yet) in the HF cache. Never touches the
 * network. No vscode imports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCachedModel, type OptimumVariant } from '../model-runtime/src/index';

export type CheckpointState = 'folder' | 'missing-folder' | 'downloaded' | 'not-downloaded';

export interface CheckpointStatus {
  /** The setting as written. */
  setting: string;
  /** What the UI shows as the checkpoint's name: the Hub id, or the folder's last part. */
  name: string;
  state: CheckpointState;
  /** True when a run can start without a download or a settings change. */
  available: boolean;
}

const HUB_ID = /^[\w-][\w.-]*\/[\w.-]+$/;

/** A setting that names a folder (it exists, or it is written like a path) rather than a Hub id. */
function isFolderLike(setting: string): boolean {
  return path.isAbsolute(setting) || setting.startsWith('.') || setting.startsWith('~') || setting.includes('\\') || !HUB_ID.test(setting);
}

/** `onnxVariant`: for a Hub repo holding only an ONNX export, the variant whose files must be cached. */
export function checkpointStatus(setting: string, options: { cacheDir?: string; onnxVariant?: OptimumVariant } = {}): CheckpointStatus {
  const value = setting.trim();
  let isDir = false;
  try {
    isDir = value !== '' && fs.statSync(value).isDirectory();
  } catch {
    isDir = false;
  }
  if (isDir || isFolderLike(value)) {
    const name = path.basename(value.replace(/[\\/]+$/, '')) || value;
    return { setting, name, state: isDir ? 'folder' : 'missing-folder', available: isDir };
  }
  const cached = findCachedModel(value, { cacheDir: options.cacheDir, onnxVariant: options.onnxVariant });
  return { setting, name: value, state: cached ? 'downloaded' : 'not-downloaded', available: cached !== null };
}

/** Words for the state, as the task picker shows them. */
export function describeCheckpointState(state: CheckpointState): string {
  switch (state) {
    case 'folder':
      return 'local folder';
    case 'missing-folder':
      return 'folder missing';
    case 'downloaded':
      return 'downloaded';
    case 'not-downloaded':
      return 'not downloaded';
  }
}
