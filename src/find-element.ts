import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { findCachedModel } from '../model-runtime/src/index';
import { providerLibraryDir } from './enable-cuda';
import type { FindElementResult } from './protocol/find-element';
import type { InferenceClient } from './inference-client';
import { resolveModelFolder } from './model-location';
import type { Pix2StructPanel } from './panel';
import type { FromWebview } from './protocol/panel';
import { hubCacheDir, readSettings } from './settings';

/** What Find Element needs from the rest of the extension. */
export interface FindElementHost {
  client: InferenceClient;
  log: vscode.LogOutputChannel;
  /** Shows the image in the panel (creating it) and makes it the current image. */
  showImage(image: vscode.Uri): Pix2StructPanel;
  pickImage(arg: unknown): Promise<vscode.Uri | undefined>;
  currentImage(): vscode.Uri | undefined;
  /** A run started or ended: Pix2Struct: Stop and the idle unload follow it. */
  runStarted(id: number): void;
  runEnded(id: number): void;
}

/** A RefExp folder usable without asking anything: a folder, or a Hub id already downloaded. */
function availableRefExpModel(setting: string): { folder: string } | { reason: string } {
  if (fs.existsSync(setting) && fs.statSync(setting).isDirectory()) return { folder: setting };
  const cached = findCachedModel(setting, { cacheDir: hubCacheDir() });
  if (cached) return { folder: cached };
  return {
    reason: `Boxes for UI nodes come from a RefExp model, and "${setting}" is not downloaded: run "Pix2Struct: Find Element…" once to download it, or set pix2struct.refexpModelPath to a checkpoint folder.`,
  };
}

/**
 * "Pix2Struct: Find Element…" and the panel's Find task, plus grounding UI-structure nodes:
 * both rank candidate boxes for a phrase with the RefExp model in the inference worker.
 * Returns the handler for panel messages.
 */
export function registerFindElement(context: vscode.ExtensionContext, host: FindElementHost): (m: FromWebview, panel: Pix2StructPanel) => void {
  /** One grounding at a time: hovering another node cancels the one still running. */
  let grounding: { id: number; nodeId: string } | undefined;

  function request(image: vscode.Uri, modelPath: string, phrase: string, onProgress?: (scored: number, total: number) => void) {
    const settings = readSettings();
    return host.client.findElement(
      {
        modelPath,
        imagePath: image.fsPath,
        phrase,
        maxPatches: settings.maxPatches,
        threads: settings.threads,
        executionProvider: settings.executionProvider,
        providerLibraryDir: providerLibraryDir(context),
        precision: settings.precision,
      },
      onProgress,
    );
  }

  async function find(image: vscode.Uri, phrase: string): Promise<FindElementResult | undefined> {
    const setting = readSettings().refexpModelPath;
    const modelPath = await resolveModelFolder(setting, host.log);
    if (!modelPath) return undefined;
    const panel = host.showImage(image);
    const run = request(image, modelPath, phrase, (scored, total) => panel.post({ type: 'findProgress', runId: run.id, scored, total }));
    host.runStarted(run.id);
    panel.post({ type: 'findStarted', runId: run.id, phrase, model: setting });
    host.log.info(`find ${run.id}: "${phrase}" in ${image.fsPath} with ${modelPath}`);
    try {
      const result = await run.done;
      panel.post({ type: 'findFinished', runId: run.id, ok: true, result });
      const best = result.ranked[0];
      host.log.info(`find ${run.id}: ${result.candidates.length} candidates; best ${best ? `${JSON.stringify(best.box)} p=${best.pTrue.toFixed(3)}` : 'none'}; ${JSON.stringify(result.timingsMs)}`);
      return result;
    } catch (err) {
      const error = err as Error & { code?: string };
      panel.post({ type: 'findFinished', runId: run.id, ok: false, error: { message: error.message, code: error.code } });
      if (error.code !== 'ABORTED') {
        host.log.error(`find ${run.id}: ${error.message}`);
        void vscode.window.showErrorMessage(`Pix2Struct: ${error.message}`, 'Show Log').then((c) => c && host.log.show());
      }
      return undefined;
    } finally {
      host.runEnded(run.id);
    }
  }

  async function ground(nodeId: string, text: string, panel: Pix2StructPanel): Promise<void> {
    const image = host.currentImage();
    const model = availableRefExpModel(readSettings().refexpModelPath);
    if (!image || 'reason' in model) {
      panel.post({ type: 'grounded', nodeId, ok: false, reason: image ? (model as { reason: string }).reason : 'No image is shown.' });
      return;
    }
    if (grounding) host.client.cancel(grounding.id);
    const run = request(image, model.folder, text);
    grounding = { id: run.id, nodeId };
    host.runStarted(run.id);
    try {
      const best = (await run.done).ranked[0];
      if (best) panel.post({ type: 'grounded', nodeId, ok: true, box: best.box, pTrue: best.pTrue });
      else panel.post({ type: 'grounded', nodeId, ok: false, reason: 'No UI elements were found on this image.' });
    } catch (err) {
      const error = err as Error & { code?: string };
      // A cancelled grounding is asked again on the next hover, so it is not an answer.
      panel.post({ type: 'grounded', nodeId, ok: false, reason: error.code === 'ABORTED' ? 'cancelled' : `Could not find it: ${error.message}` });
      if (error.code !== 'ABORTED') host.log.error(`grounding "${text}": ${error.message}`);
    } finally {
      if (grounding?.id === run.id) grounding = undefined;
      host.runEnded(run.id);
    }
  }

  const askPhrase = () => vscode.window.showInputBox({ prompt: 'Which element? Describe it as you would to a person', placeHolder: 'e.g. the search icon at the top', ignoreFocusOut: true });

  context.subscriptions.push(
    vscode.commands.registerCommand('pix2struct.findElement', async (arg?: unknown, phraseArg?: unknown) => {
      const image = await host.pickImage(arg);
      if (!image) return undefined;
      const phrase = typeof phraseArg === 'string' ? phraseArg : await askPhrase();
      if (!phrase?.trim()) return undefined;
      return find(image, phrase.trim());
    }),
  );

  return (m, panel) => {
    if (m.type === 'find') {
      const image = host.currentImage();
      if (image) void find(image, m.phrase);
    } else if (m.type === 'ground') void ground(m.nodeId, m.text, panel);
  };
}
