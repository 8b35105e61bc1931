import * as path from 'node:path';
import * as vscode from 'vscode';
import { AltText } from './alt-text-commands';
import { captureDisplay, listDisplays } from './capture';
import { ContinuableRun, type ContinuePrefix } from './continue-run';
import { providerLibraryDir, registerEnableCuda } from './enable-cuda';
import { registerFindElement } from './find-element';
import { ImageKeys } from './image-keys';
import { InferenceClient } from './inference-client';
import { manageModels } from './manage-models';
import { resolveModelFolder } from './model-location';
import { Pix2StructPanel } from './panel';
import { handlePanelRequest } from './panel-requests';
import type { Box } from './protocol/common';
import type { DescribeResult, TaskId } from './protocol/describe-result';
import { readSettings, taskMaxNewTokens } from './settings';
import { showModelLoaded, showModelRunning, showModelSettled, showModelUnloaded } from './status-item';
import { taskModels, watchTaskModels } from './task-models';
import { registerTraining } from './training/register';

const IMAGE_FILTERS = { Images: ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'] };

/** What a run needs besides the settings. */
interface RunTarget {
  image: vscode.Uri;
  task: TaskId;
  question?: string;
  box?: Box;
  /** Continue: generate on from a run its budget stopped. */
  prefix?: ContinuePrefix;
}

export function activate(context: vscode.ExtensionContext) {
  const log = vscode.window.createOutputChannel('Pix2Struct', { log: true });
  const client = new InferenceClient(path.join(context.extensionPath, 'dist', 'inference-worker.js'), (line) => log.warn(line));
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.command = 'pix2struct.showLog';
  let currentImage: vscode.Uri | undefined;
  let activeRun: number | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const imageKeys = new ImageKeys();
  const continuable = new ContinuableRun<RunTarget>();
  const altText = new AltText(log);
  context.subscriptions.push(log, status, { dispose: () => void client.dispose() }, altText.register());

  const scheduleUnload = () => {
    clearTimeout(idleTimer);
    const minutes = readSettings().idleUnloadMinutes;
    if (minutes > 0)
      idleTimer = setTimeout(() => {
        client.unload();
        showModelUnloaded(status);
      }, minutes * 60_000);
  };

  const onFindMessage = registerFindElement(context, {
    client,
    log,
    showImage: (image) => showImage(image),
    pickImage: (arg) => pickImage(arg),
    currentImage: () => currentImage,
    runStarted: (id) => (activeRun = id),
    runEnded: (id) => {
      if (activeRun === id) activeRun = undefined;
      scheduleUnload();
    },
  });

  // The panel's buttons arrive here as validated messages.
  const wirePanel = (panel: Pix2StructPanel) => {
    const taskModels = watchTaskModels((models) => panel.post({ type: 'taskModels', models }));
    panel.onDidDispose(() => taskModels.dispose());
    const requestHost = { keys: imageKeys, altText, log, showImage: (image: vscode.Uri) => void showImage(image), selectImage: (image: vscode.Uri) => void (currentImage = image) };
    return panel.onMessage((m) => {
      onFindMessage(m, panel);
      if (handlePanelRequest(m, panel, requestHost)) return;
      if (m.type === 'run' && currentImage) void run({ image: currentImage, task: m.task, question: m.question, box: m.box });
      else if (m.type === 'stop') client.cancel(m.runId);
      else if (m.type === 'continue') {
        const next = continuable.continuation(m.runId, (task) => readSettings().models[task], activeRun !== undefined);
        panel.post('error' in next ? { type: 'reply', requestId: m.requestId, ok: false, error: { message: next.error } } : { type: 'reply', requestId: m.requestId, ok: true });
        if (!('error' in next)) void run({ ...next.target, prefix: next.prefix });
      }
      else if (m.type === 'copy') void vscode.env.clipboard.writeText(m.text);
      else if (m.type === 'insert') void altText.insertAtCursor(m.text);
    });
  };

  const showImage = (image: vscode.Uri) => {
    currentImage = image;
    const panel = Pix2StructPanel.show(context.extensionUri, vscode.Uri.file(path.dirname(image.fsPath)), wirePanel);
    panel.post({ type: 'image', image: { src: panel.asWebviewUri(image), name: path.basename(image.fsPath), key: imageKeys.keyFor(image.fsPath) } });
    return panel;
  };

  async function run(target: RunTarget): Promise<DescribeResult | undefined> {
    const settings = readSettings();
    const setting = settings.models[target.task];
    const modelPath = await resolveModelFolder(setting, log);
    if (!modelPath) return undefined;
    const panel = showImage(target.image);
    const request = client.describe(
      {
        task: target.task,
        modelPath,
        imagePath: target.image.fsPath,
        question: target.question,
        box: target.box,
        maxPatches: settings.maxPatches,
        maxNewTokens: target.prefix?.maxNewTokens ?? settings.maxNewTokens,
        taskMaxNewTokens: taskMaxNewTokens(target.task, setting),
        prefixIds: target.prefix?.tokenIds,
        threads: settings.threads,
        executionProvider: settings.executionProvider,
        providerLibraryDir: providerLibraryDir(context),
        precision: settings.precision,
        onnxVariant: settings.onnxVariant,
      },
      (text, tokenId) => panel.post({ type: 'token', runId: request.id, text, tokenId }),
    );
    activeRun = request.id;
    showModelRunning(status, setting);
    panel.post({ type: 'runStarted', runId: request.id, task: target.task, model: setting, question: target.question, continues: target.prefix?.runId });
    log.info(`run ${request.id}: ${target.task} ${target.image.fsPath} with ${modelPath}`);
    try {
      const result = await request.done;
      panel.post({ type: 'runFinished', runId: request.id, ok: true, result });
      showModelLoaded(status, setting, result.provider, result.precision);
      altText.remember(target.image.fsPath, result);
      continuable.finished(request.id, { ...target, prefix: undefined }, setting, result);
      // A Hub checkpoint may have been downloaded for this run.
      panel.post({ type: 'taskModels', models: taskModels() });
      log.info(`run ${request.id}: ${result.tokenIds.length - 1} tokens (stopped by ${result.stoppedBy}); ${JSON.stringify(result.timingsMs)}`);
      return result;
    } catch (err) {
      const error = err as Error & { code?: string };
      showModelSettled(status);
      panel.post({ type: 'runFinished', runId: request.id, ok: false, error: { message: error.message, code: error.code } });
      if (error.code !== 'ABORTED') {
        log.error(`run ${request.id}: ${error.message}`);
        void vscode.window.showErrorMessage(`Pix2Struct: ${error.message}`, 'Show Log').then((c) => c && log.show());
      }
      return undefined;
    } finally {
      if (activeRun === request.id) activeRun = undefined;
      scheduleUnload();
    }
  }

  /** The image a command acts on: its argument, the active image preview, or a file picker. */
  async function pickImage(arg: unknown): Promise<vscode.Uri | undefined> {
    if (arg instanceof vscode.Uri) return arg;
    const tabInput = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (tabInput instanceof vscode.TabInputCustom && tabInput.viewType === 'imagePreview.previewEditor') return tabInput.uri;
    if (currentImage) return currentImage;
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: IMAGE_FILTERS, openLabel: 'Open Image' });
    return picked?.[0];
  }

  const askQuestion = () => vscode.window.showInputBox({ prompt: 'Ask Pix2Struct about the image', placeHolder: 'e.g. What is the highest value?', ignoreFocusOut: true });

  context.subscriptions.push(
    vscode.commands.registerCommand('pix2struct.openImage', async () => {
      const image = await pickImage(undefined);
      if (image) showImage(image);
      return image;
    }),
    vscode.commands.registerCommand('pix2struct.describeImage', async (arg?: unknown) => {
      const image = await pickImage(arg);
      return image ? run({ image, task: 'describe' }) : undefined;
    }),
    vscode.commands.registerCommand('pix2struct.askAboutImage', async (arg?: unknown, questionArg?: unknown) => {
      const image = await pickImage(arg);
      if (!image) return undefined;
      const question = typeof questionArg === 'string' ? questionArg : await askQuestion();
      return question?.trim() ? run({ image, task: 'ask', question: question.trim() }) : undefined;
    }),
    ...(
      [
        ['pix2struct.summarizeScreen', 'summarize'],
        ['pix2struct.parseUiStructure', 'ui'],
        ['pix2struct.chartToTable', 'table'],
      ] as const
    ).map(([id, task]) =>
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        const image = await pickImage(arg);
        return image ? run({ image, task }) : undefined;
      }),
    ),
    vscode.commands.registerCommand('pix2struct.captionWidget', async (arg?: unknown, boxArg?: unknown) => {
      const image = await pickImage(arg);
      if (!image) return undefined;
      const box = boxArg as Box | undefined;
      if (box) return run({ image, task: 'widget', box });
      // Without a box, the panel asks the user to draw one; its Run sends it back.
      const panel = showImage(image);
      panel.post({ type: 'drawBox', task: 'widget' });
      return undefined;
    }),
    vscode.commands.registerCommand('pix2struct.cropImage', async (arg?: unknown) => {
      const image = await pickImage(arg);
      if (image) showImage(image).post({ type: 'startCrop' });
      return image;
    }),
    vscode.commands.registerCommand('pix2struct.captureScreenshot', async () => {
      try {
        const displays = await listDisplays();
        const picked =
          displays.length <= 1
            ? displays[0]
            : (await vscode.window.showQuickPick(displays.map((d) => ({ label: d.name, display: d })), { placeHolder: 'Which display?' }))?.display;
        if (!picked) return undefined;
        const png = await captureDisplay(picked.id);
        const folder = vscode.Uri.joinPath(context.globalStorageUri, 'captures');
        await vscode.workspace.fs.createDirectory(folder);
        const file = vscode.Uri.joinPath(folder, `screenshot-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
        await vscode.workspace.fs.writeFile(file, png);
        log.info(`captured ${picked.name} to ${file.fsPath}`);
        // A whole screen is rarely what the question is about: offer to crop it right away.
        showImage(file).post({ type: 'startCrop' });
        return file;
      } catch (err) {
        const message = (err as Error).message;
        log.error(`capture failed: ${message}`);
        void vscode.window.showErrorMessage(`Pix2Struct could not capture the screen: ${message}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('pix2struct.stop', () => activeRun !== undefined && client.cancel(activeRun)),
    vscode.commands.registerCommand('pix2struct.showLog', () => log.show()),
    vscode.commands.registerCommand('pix2struct.manageModels', () => manageModels(log)),
    // After an install the loaded model is dropped, so the next run opens its sessions again and tries CUDA.
    registerEnableCuda(context, log, () => {
      client.unload();
      showModelUnloaded(status);
    }),
  );

  registerTraining(context, log);
  log.info('Pix2Struct activated');
}

export function deactivate() {}
