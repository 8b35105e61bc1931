import * as path from 'node:path';
import * as vscode from 'vscode';
import { isTerminal, type RunRecord } from '../../training/launcher/types';
import { sshHostError } from './fine-tune-inputs';
import { askFineTune } from './fine-tune-wizard';
import { createLauncher } from './launcher-adapter';
import type { TrainingLauncher } from './launcher-port';
import { describeTarget } from './run-monitor';
import { RunPanel } from './run-panel';
import type { RunPanelAction } from '../protocol/run-panel';
import { RunStore, STORE_KEY } from './run-store';
import { OPEN_RUN_PANEL_COMMAND, RunTreeProvider, type RunTreeNode } from './run-tree';
import { MODEL_SETTINGS, settingForTask, TRAINING_TASK_INFO, type ModelSettingKey } from './task-mapping';
import { TrainingRuns } from './training-runs';

export const TRAINING_VIEW_ID = 'pix2struct.trainingRuns';
const UNTRUSTED_MESSAGE =
  'Remote fine-tuning is off in untrusted workspaces: it runs commands on other machines over SSH. Trust this workspace to start, follow or stop runs.';

type Log = vscode.LogOutputChannel;

/**
 * The VS Code side of remote fine-tuning: the Fine-tune wizard, the Training Runs view, run
 * panels and per-run actions. Call once from activate(); everything is disposed with the
 * extension. Runs go on on their hosts when VS Code closes and are found again on activation.
 */
export function registerTraining(context: vscode.ExtensionContext, log: Log, launcherFactory?: () => TrainingLauncher): vscode.Disposable {
  const tree = new RunTreeProvider();
  // One view for the extension's lifetime; restarts of the training part keep it.
  const view = vscode.window.createTreeView(TRAINING_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const start = () => startTraining(context, log, { tree, view }, launcherFactory);
  let current = start();
  const testCommands: vscode.Disposable[] = [];
  // Extension tests reload this part the way a window reload would, and read the tree as data.
  if (context.extensionMode === vscode.ExtensionMode.Test) {
    testCommands.push(
      vscode.commands.registerCommand('pix2struct.training.test.setStoredRuns', (value: unknown) => context.globalState.update(STORE_KEY, value)),
      vscode.commands.registerCommand('pix2struct.training.test.getStoredRuns', () => context.globalState.get(STORE_KEY)),
      vscode.commands.registerCommand('pix2struct.training.test.reactivate', async () => {
        await current.dispose();
        current = start();
      }),
      vscode.commands.registerCommand('pix2struct.training.test.snapshot', () => current.snapshot()),
    );
  }
  // Where runs live and how hosts are reached are fixed per launcher: changing them starts afresh.
  const configWatch = vscode.workspace.onDidChangeConfiguration(async (e) => {
    if (!e.affectsConfiguration('pix2struct.training.remoteRoot') && !e.affectsConfiguration('pix2struct.training.sshConfigFile')) return;
    log.info('training: host settings changed; reconnecting to runs');
    await current.dispose();
    current = start();
  });
  testCommands.push(configWatch);
  const disposable = new vscode.Disposable(() => {
    for (const d of testCommands) d.dispose();
    void current.dispose();
    view.dispose();
    tree.dispose();
  });
  context.subscriptions.push(disposable);
  return disposable;
}

interface Started {
  snapshot(): unknown;
  dispose(): Promise<void>;
}

function startTraining(
  context: vscode.ExtensionContext,
  log: Log,
  { tree, view }: { tree: RunTreeProvider; view: vscode.TreeView<RunTreeNode> },
  launcherFactory?: () => TrainingLauncher,
): Started {
  const settings = vscode.workspace.getConfiguration('pix2struct.training');
  const launcher =
    launcherFactory?.() ??
    createLauncher({
      // build.mjs copies training/remote here (the package ships dist/ only).
      codeDir: path.join(context.extensionPath, 'dist', 'training-remote'),
      remoteRoot: settings.get<string>('remoteRoot', '').trim() || undefined,
      sshConfigFile: settings.get<string>('sshConfigFile', '').trim() || undefined,
      log: (line) => log.info(line),
      gcloud: settings.get<string>('gcloudPath', '').trim() || undefined,
    });
  const store = new RunStore(context.globalState);
  const runs = new TrainingRuns(store, launcher, log);
  tree.attach(runs);
  const logChannels = new Map<string, { channel: vscode.OutputChannel; subscription: { dispose(): void } }>();
  const disposables: vscode.Disposable[] = [runs, new vscode.Disposable(() => tree.attach(undefined))];
  const config = () => vscode.workspace.getConfiguration('pix2struct.training');
  const defaultHostTarget = () => {
    const host = config().get<string>('defaultHost', '').trim();
    return host && !sshHostError(host) ? [{ kind: 'ssh' as const, host }] : [];
  };

  const showTrust = () => {
    if (!vscode.workspace.isTrusted) view.message = UNTRUSTED_MESSAGE;
    else if (view.message) view.message = undefined;
  };
  showTrust();

  /** Runtime twin of the manifest's `enablement: isWorkspaceTrusted`: commands can be run from code too. */
  const trusted = (): boolean => {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust').then((c) => c && vscode.commands.executeCommand('workbench.trust.manage'));
    return false;
  };

  const fail = (what: string, err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    log.error(`${what}: ${message}`);
    void vscode.window.showErrorMessage(`Pix2Struct: ${what}: ${message}`, 'Show Log').then((c) => c && log.show());
  };

  /** The run a command acts on: a tree node, a run id, or the user's pick. */
  const resolveRun = async (arg: unknown, placeHolder: string): Promise<RunRecord | undefined> => {
    if (typeof arg === 'string') return runs.record(arg);
    const node = arg as RunTreeNode | undefined;
    if (node?.kind === 'run') return runs.record(node.item.id);
    const all = runs.views();
    if (all.length === 0) {
      void vscode.window.showInformationMessage('No training runs yet. Start one with "Pix2Struct: Fine-tune on Remote Host…".');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      all.map((v) => ({ label: v.record.name, description: `${describeTarget(v.record)} · ${v.status?.state ?? 'unknown'}`, id: v.record.id })),
      { placeHolder },
    );
    return picked ? runs.record(picked.id) : undefined;
  };

  const fineTune = async () => {
    if (!trusted()) return undefined;
    const request = await askFineTune(() => launcher.listHosts(), config().get<string>('defaultHost', '').trim(), config().get<string>('remotePython', '').trim() || undefined);
    if (!request) return undefined;
    const { spec, target } = request;
    const where = target.kind === 'ssh' ? target.host : `TPU VM ${target.name}`;
    log.info(`fine-tune: submitting "${spec.name}" (${spec.task}, ${spec.steps} steps from ${spec.baseModel}) to ${where}`);
    try {
      const record = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Starting "${spec.name}" on ${where}`, cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return launcher.submit(spec, target, { signal: abort.signal, onProgress: (message) => progress.report({ message }) });
        },
      );
      log.info(`fine-tune: run ${record.id} started on ${where}`);
      const monitor = await runs.add(record);
      if (monitor) RunPanel.show(context.extensionUri, monitor, panelAction);
      void vscode.commands.executeCommand(`${TRAINING_VIEW_ID}.focus`);
      return record;
    } catch (err) {
      if ((err as Error).name === 'AbortError') {
        log.info('fine-tune: cancelled before the run started');
        return undefined;
      }
      fail(`could not start the run on ${where}`, err);
      return undefined;
    }
  };

  const openPanel = async (arg: unknown) => {
    const record = await resolveRun(arg, 'Open which run?');
    if (!record) return undefined;
    const monitor = vscode.workspace.isTrusted ? runs.follow(record.id) : runs.monitor(record.id);
    if (!monitor) return undefined;
    RunPanel.show(context.extensionUri, monitor, panelAction);
    return record.id;
  };

  const stop = async (arg: unknown, confirmed = false): Promise<string | null> => {
    if (!trusted()) throw new Error('The workspace is not trusted.');
    const record = await resolveRun(arg, 'Stop which run?');
    if (!record) return null;
    const status = runs.monitor(record.id)?.status;
    if (status && isTerminal(status.state)) return `The run already ${status.state === 'succeeded' ? 'finished' : status.state}.`;
    if (!confirmed) {
      const ok = await vscode.window.showWarningMessage(
        `Stop "${record.name}" on ${describeTarget(record)}?`,
        { modal: true, detail: 'Its processes on the host are ended. Checkpoints saved so far stay on the host.' },
        'Stop Run',
      );
      if (ok !== 'Stop Run') return null;
    }
    try {
      const final = await launcher.cancel(record);
      runs.monitor(record.id)?.setStatus(final);
      log.info(`run ${record.id}: stopped (${final.state})`);
      return `Run ${final.state}.`;
    } catch (err) {
      fail(`could not stop "${record.name}"`, err);
      throw err;
    }
  };

  const openLog = async (arg: unknown) => {
    const record = await resolveRun(arg, 'Show the log of which run?');
    if (!record) return null;
    const monitor = vscode.workspace.isTrusted ? runs.follow(record.id) : runs.monitor(record.id);
    if (!monitor) return null;
    let entry = logChannels.get(record.id);
    if (!entry) {
      const channel = vscode.window.createOutputChannel(`Pix2Struct Run: ${record.name}`);
      channel.append(monitor.logContents);
      const subscription = monitor.onEvent((e) => {
        if (e.kind === 'log') channel.append(e.text);
        else if (e.kind === 'reset') channel.clear();
      });
      logChannels.set(record.id, (entry = { channel, subscription }));
    }
    entry.channel.show(true);
    return null;
  };

  /** Which setting a checkpoint of `record` replaces: the task's own, or the user's pick. */
  const pickSetting = async (record: RunRecord): Promise<ModelSettingKey | undefined> => {
    const known = settingForTask(record.task);
    if (known) return known;
    const picked = await vscode.window.showQuickPick(
      MODEL_SETTINGS.map((s) => ({ label: s.command, description: `pix2struct.${s.key}`, key: s.key })),
      { placeHolder: `${TRAINING_TASK_INFO[record.task].label} has no command of its own: which command should use the checkpoint?` },
    );
    return picked?.key;
  };

  const useCheckpoint = async (arg: unknown, checkpointArg?: unknown): Promise<string | null> => {
    if (!trusted()) throw new Error('The workspace is not trusted.');
    const record = await resolveRun(arg, 'Use a checkpoint of which run?');
    if (!record) return null;
    let status = runs.monitor(record.id)?.status;
    try {
      status = await launcher.status(record, { signal: AbortSignal.timeout(60_000) });
      runs.monitor(record.id)?.setStatus(status);
    } catch (err) {
      if (!status) {
        fail(`could not read "${record.name}" on ${describeTarget(record)}`, err);
        throw err;
      }
    }
    const available = [...(status.finalCheckpoint ? ['final'] : []), ...[...status.checkpoints].reverse().map((c) => c.replace(/^checkpoints\//, ''))];
    if (available.length === 0) throw new Error(`"${record.name}" has no checkpoint yet (${status.state}${status.step !== undefined ? `, step ${status.step}` : ''}).`);
    let checkpoint = typeof checkpointArg === 'string' && available.includes(checkpointArg) ? checkpointArg : available[0]!;
    if (available.length > 1 && typeof checkpointArg !== 'string' && !status.finalCheckpoint) {
      const picked = await vscode.window.showQuickPick(available, { placeHolder: 'The run has not finished: use which checkpoint?' });
      if (!picked) return null;
      checkpoint = picked;
    }
    const key = await pickSetting(record);
    if (!key) return null;
    const localDir = vscode.Uri.joinPath(context.globalStorageUri, 'checkpoints', record.id, checkpoint).fsPath;
    try {
      const folder = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Downloading ${checkpoint} of "${record.name}"`, cancellable: true },
        (_progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return launcher.fetchCheckpoint(record, checkpoint, localDir, { signal: abort.signal });
        },
      );
      const settings = vscode.workspace.getConfiguration('pix2struct');
      // A workspace value would hide a user-level one: replace the value that is in effect.
      const inspected = settings.inspect<string>(key);
      const target = inspected?.workspaceFolderValue !== undefined || inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await settings.update(key, folder, target);
      const command = MODEL_SETTINGS.find((s) => s.key === key)!.command;
      const message = `${command} now uses ${checkpoint} of "${record.name}" (pix2struct.${key} = ${folder}).`;
      log.info(`run ${record.id}: ${message}`);
      void vscode.window.showInformationMessage(`Pix2Struct: ${message}`);
      return message;
    } catch (err) {
      if ((err as Error).name === 'AbortError') return null;
      fail(`could not download the checkpoint of "${record.name}"`, err);
      throw err;
    }
  };

  const remove = async (arg: unknown) => {
    const record = await resolveRun(arg, 'Remove which run from the list?');
    if (!record) return;
    RunPanel.close(record.id);
    const entry = logChannels.get(record.id);
    entry?.subscription.dispose();
    entry?.channel.dispose();
    logChannels.delete(record.id);
    await runs.remove(record.id);
    log.info(`run ${record.id}: removed from the list (its folder on ${describeTarget(record)} is kept)`);
  };

  const refresh = async () => {
    if (!trusted()) return 0;
    runs.followLive();
    const added = await runs.discover(defaultHostTarget());
    tree.refresh();
    return added;
  };

  // Every webview request ends in exactly one reply: handlers return a message or throw.
  async function panelAction(action: RunPanelAction, runId: string): Promise<string | null> {
    switch (action) {
      case 'stop':
        return stop(runId);
      case 'openLog':
        return openLog(runId);
      case 'useCheckpoint':
        return useCheckpoint(runId);
      case 'reconnect': {
        if (!trusted()) throw new Error('The workspace is not trusted.');
        const m = runs.monitor(runId);
        if (!m) throw new Error('The run is no longer in the list.');
        m.stop();
        void m.follow();
        return null;
      }
    }
  }

  const safely =
    <A extends unknown[]>(what: string, fn: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      try {
        return await fn(...args);
      } catch (err) {
        log.error(`${what}: ${(err as Error).message}`);
        return undefined;
      }
    };

  disposables.push(
    vscode.commands.registerCommand('pix2struct.training.fineTune', fineTune),
    vscode.commands.registerCommand(OPEN_RUN_PANEL_COMMAND, openPanel),
    vscode.commands.registerCommand('pix2struct.training.stopRun', safely('stop', (arg: unknown) => stop(arg))),
    vscode.commands.registerCommand('pix2struct.training.openLog', openLog),
    vscode.commands.registerCommand('pix2struct.training.useCheckpoint', safely('use checkpoint', (arg: unknown, checkpoint?: unknown) => useCheckpoint(arg, checkpoint))),
    vscode.commands.registerCommand('pix2struct.training.removeRun', remove),
    vscode.commands.registerCommand('pix2struct.training.refresh', refresh),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      showTrust();
      void refresh();
    }),
  );

  if (vscode.workspace.isTrusted) {
    runs.followLive();
    void runs.discover(defaultHostTarget());
  }

  return {
    snapshot: () => ({
      trusted: vscode.workspace.isTrusted,
      message: view.message || null,
      groups: tree.model(),
      runs: runs.views().map((v) => {
        const m = runs.existingMonitor(v.record.id);
        return { id: v.record.id, connection: v.connection, error: v.error ?? null, status: v.status ?? null, metrics: m?.metrics.length ?? 0, logChars: m?.logContents.length ?? 0 };
      }),
      panels: RunPanel.openIds(),
    }),
    dispose: async () => {
      RunPanel.closeAll();
      for (const { channel, subscription } of logChannels.values()) subscription.dispose(), channel.dispose();
      for (const d of disposables.splice(0)) d.dispose();
      await launcher.dispose().catch(() => undefined);
    },
  };
}
