import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { downloadModel, findCachedModel, findRegistryEntry } from '../model-runtime/src/index';
import { hubCacheDir, onnxVariantSetting } from './settings';

/**
 * Turns the modelPath setting into a folder: a folder is used as it is; a Hub id is looked up
 * in the Hugging Face cache and, after the user agrees, downloaded with cancellable progress.
 * Returns undefined when the user declines or cancels.
 */
export async function resolveModelFolder(setting: string, log: vscode.LogOutputChannel): Promise<string | undefined> {
  if (fs.existsSync(setting) && fs.statSync(setting).isDirectory()) return setting;
  const cacheDir = hubCacheDir();
  // For a repo holding only an ONNX export, the variant the user chose is what must be cached or fetched.
  const onnxVariant = onnxVariantSetting();
  const cached = findCachedModel(setting, { cacheDir, onnxVariant });
  if (cached) return cached;
  const size = findRegistryEntry(setting)?.downloadBytes;
  const choice = await vscode.window.showInformationMessage(
    `Pix2Struct needs the model "${setting}"${size ? ` (${(size / 1e9).toFixed(1)} GB)` : ''}. Download it into the Hugging Face cache${cacheDir ? ` (${cacheDir})` : ''} now?`,
    { modal: true },
    'Download',
  );
  if (choice !== 'Download') return undefined;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Downloading ${setting}`, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort(new Error('download cancelled; it resumes next time')));
      let reported = 0;
      const folder = await downloadModel(setting, {
        cacheDir,
        onnxVariant,
        signal: controller.signal,
        onProgress: ({ file, bytes, total }) => {
          const percent = total > 0 ? (100 * bytes) / total : 0;
          progress.report({ message: `${file} ${(bytes / 1e6).toFixed(0)} / ${(total / 1e6).toFixed(0)} MB`, increment: Math.max(0, percent - reported) });
          reported = percent;
        },
      });
      log.info(`downloaded ${setting} to ${folder}`);
      return folder;
    },
  );
}
