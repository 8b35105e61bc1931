// Remote fine-tuning in a real VS Code: the Training Runs view and run panel against a real
// OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts), the real launcher and control.py; the
// training interpreter is test/remote/fake-train-python (torch training has its own tests).
// The extension reaches the test sshd through the user-level settings sshConfigFile/remoteRoot.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Launcher } from '../../../training/launcher/launcher';
import { SshTransport } from '../../../training/launcher/ssh-transport';
import type { RunRecord, RunStatus } from '../../../training/launcher/types';
import { buildRunSpec } from '../../../src/training/fine-tune-inputs';
import { sshdAvailable, startSshd, type TestSshd } from '../../helpers/sshd';
import { after, before, describe, it } from './harness';
import { EXTENSION_ID, vscode } from './vscode-api';

const REPO = path.resolve(__dirname, '../../../..');
const FAKE_TRAIN_PYTHON = path.join(REPO, 'test/remote/fake-train-python');
const STEPS = 30;

interface Snapshot {
  trusted: boolean;
  message: string | null;
  groups: { key: string; label: string; runs: { id: string; label: string; description: string; icon: string; contextValue: string; tooltip: string }[] }[];
  runs: { id: string; connection: string; error: string | null; status: RunStatus | null; metrics: number; logChars: number }[];
  panels: { id: string; rendered: { points: number; state: string | null } | null }[];
}

const snapshot = () => vscode.commands.executeCommand<Snapshot>('pix2struct.training.test.snapshot');
const training = () => vscode.workspace.getConfiguration('pix2struct.training');

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false | '' | 0>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await probe();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last snapshot: ${JSON.stringify(last ?? (await snapshot()))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const runIn = (s: Snapshot, id: string) => s.runs.find((r) => r.id === id);
const itemIn = (s: Snapshot, id: string) => s.groups.flatMap((g) => g.runs.map((r) => ({ ...r, group: g.label }))).find((r) => r.id === id);

describe('remote fine-tuning: Training Runs view and run panel', () => {
  let sshd: TestSshd | undefined;
  let launcher: Launcher;
  const remoteRoot = `.p2s-e2e-training-${process.pid}`;
  const dataset = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-e2e-dataset-'));
  let live: RunRecord;

  const submit = (name: string) =>
    launcher.submit(
      { kind: 'ssh', host: sshd!.host },
      buildRunSpec({
        name, task: 'screen2words', backend: 'gpu', dataset: { format: 'screen2words', path: dataset, location: 'local' },
        baseModel: 'google/pix2struct-base', steps: STEPS, batchSize: 1, learningRate: 0.01, maxPatches: 64, python: FAKE_TRAIN_PYTHON,
      }),
    );

  before(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    assert.ok(sshdAvailable(), 'needs /usr/sbin/sshd, ssh and rsync (apt-get install openssh-server openssh-client rsync)');
    sshd = await startSshd();
    fs.writeFileSync(path.join(dataset, 'screen2words.csv'), 'screenId,summary\n1,a settings page\n');
    // "Another window": the test's own launcher starts runs the extension has not seen.
    launcher = new Launcher({
      remoteRoot,
      codeDir: path.join(REPO, 'training/remote'),
      transportFactory: (t) => new SshTransport({ host: (t as { host: string }).host, configFile: sshd!.configFile }),
    });
    await training().update('sshConfigFile', sshd.configFile, vscode.ConfigurationTarget.Global);
    await training().update('remoteRoot', remoteRoot, vscode.ConfigurationTarget.Global);
  });

  // The stored runs and sshConfigFile/remoteRoot stay (the runner's user data is a temp folder):
  // changing those restarts the training part and would close the run panel before the
  // runner's screenshot and CSP probe.
  after(async () => {
    await training().update('defaultHost', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('pix2struct').update('summaryModelPath', undefined, vscode.ConfigurationTarget.Global);
    await launcher?.dispose();
    await sshd?.stop();
    fs.rmSync(path.join(os.homedir(), remoteRoot), { recursive: true, force: true });
    fs.rmSync(dataset, { recursive: true, force: true });
  });

  it('contributes and registers the training commands and the Training Runs view', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[]; views: Record<string, { id: string; name: string }[]> } };
    const contributed = pkg.contributes.commands.map((c) => c.command).filter((c) => c.startsWith('pix2struct.training.'));
    for (const c of ['fineTune', 'openRunPanel', 'stopRun', 'openLog', 'useCheckpoint', 'removeRun', 'refresh']) assert.ok(contributed.includes(`pix2struct.training.${c}`), `${c} not contributed`);
    const all = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !all.has(c)), [], 'contributed but not registered');
    const views = Object.values(pkg.contributes.views).flat();
    assert.ok(views.some((v) => v.id === 'pix2struct.trainingRuns' && v.name === 'Training Runs'));
    // The view exists in the workbench: its focus command opens it.
    await vscode.commands.executeCommand('pix2struct.trainingRuns.focus');
    const s = await snapshot();
    assert.equal(s.trusted, true);
    assert.equal(s.message, null, 'a trusted workspace shows no "disabled" message');
  });

  it('a run record stored in globalState is in the tree, grouped by host, after a reload', async () => {
    const done: RunRecord = { id: '20261120-101500-abc123', name: 'docvqa baseline', task: 'docvqa', target: { kind: 'ssh', host: 'gpu-box' }, remoteDir: '.pix2struct/runs/20261120-101500-abc123', createdAt: '2026-11-20T10:15:00.000Z' };
    const status: RunStatus = { state: 'succeeded', updatedAt: '2026-11-20T11:00:00Z', step: 200, totalSteps: 200, checkpoints: ['checkpoints/step-200'], finalCheckpoint: 'checkpoints/final' };
    await vscode.commands.executeCommand('pix2struct.training.test.setStoredRuns', { version: 1, runs: [{ record: done, status }, { record: { id: 'NOT A RUN' } }] });
    await vscode.commands.executeCommand('pix2struct.training.test.reactivate');
    const s = await snapshot();
    assert.deepEqual(s.groups.map((g) => g.label), ['gpu-box'], 'one host group; the malformed record is dropped');
    const item = itemIn(s, done.id)!;
    assert.equal(item.label, done.name);
    assert.match(item.description, /200\/200/);
    assert.match(item.description, /succeeded/);
    assert.equal(item.icon, 'pass');
    assert.match(item.contextValue, /\bcheckpoint\b/);
    assert.doesNotMatch(item.contextValue, /\blive\b/, 'a finished run offers no Stop');
    assert.equal(runIn(s, done.id)!.connection, 'idle', 'a finished run is not followed on activation');
  });

  it('a run on an unreachable host shows the connection problem instead of hanging', async () => {
    const lost: RunRecord = { id: '20261124-000000-dead00', name: 'on a dead host', task: 'textcaps', target: { kind: 'ssh', host: sshd!.downHost }, remoteDir: `${remoteRoot}/runs/20261124-000000-dead00`, createdAt: new Date().toISOString() };
    const stored = await vscode.commands.executeCommand<{ runs: unknown[] }>('pix2struct.training.test.getStoredRuns');
    await vscode.commands.executeCommand('pix2struct.training.test.setStoredRuns', { version: 1, runs: [...stored.runs, { record: lost }] });
    await vscode.commands.executeCommand('pix2struct.training.test.reactivate');
    const s = await waitFor('the connection problem to show', async () => {
      const snap = await snapshot();
      const r = runIn(snap, lost.id);
      return (r?.connection === 'reconnecting' || r?.connection === 'error') && r.error && snap;
    });
    const item = itemIn(s, lost.id)!;
    assert.equal(item.icon, 'debug-disconnect');
    assert.match(item.tooltip, /Connection: /);
    console.log(`unreachable host: ${runIn(s, lost.id)!.error}`);
    await vscode.commands.executeCommand('pix2struct.training.removeRun', lost.id);
    assert.equal(itemIn(await snapshot(), lost.id), undefined, 'Remove from List takes it out of the tree');
  }, 120_000);

  it('reattaches to a live run on the sshd: the tree shows its state and step, the panel plots its metrics', async () => {
    live = await submit('live run; $(echo not a command)');
    const stored = await vscode.commands.executeCommand<{ runs: unknown[] }>('pix2struct.training.test.getStoredRuns');
    await vscode.commands.executeCommand('pix2struct.training.test.setStoredRuns', { version: 1, runs: [...stored.runs, { record: live }] });
    await vscode.commands.executeCommand('pix2struct.training.test.reactivate');
    const running = await waitFor('the run to be followed while training', async () => {
      const s = await snapshot();
      const r = runIn(s, live.id);
      return r?.connection === 'live' && r.status?.state === 'running' && (r.status.step ?? 0) > 0 && (r.status.step ?? 0) < STEPS && s;
    });
    const item = itemIn(running, live.id)!;
    assert.equal(item.group, sshd!.host);
    assert.equal(item.label, live.name, 'the name with shell syntax is shown as typed');
    assert.match(item.description, new RegExp(`\\d+/${STEPS} · running`));
    assert.equal(item.icon, 'sync~spin');
    assert.match(item.contextValue, /\blive\b/);

    await vscode.commands.executeCommand('pix2struct.training.openRunPanel', live.id);
    await waitFor('the panel to plot some metrics while the run goes on', async () => {
      const p = (await snapshot()).panels.find((x) => x.id === live.id);
      return p?.rendered && p.rendered.points > 0 && p.rendered.state === 'running';
    });
    const finished = await waitFor('the run to succeed', async () => {
      const s = await snapshot();
      const p = s.panels.find((x) => x.id === live.id);
      return runIn(s, live.id)?.status?.state === 'succeeded' && p?.rendered?.state === 'succeeded' && p.rendered.points === STEPS && s;
    }, 90_000);
    const r = runIn(finished, live.id)!;
    // fake-train-python writes one train metric per step, and a log line per step.
    assert.equal(r.metrics, STEPS);
    assert.equal(r.connection, 'ended');
    assert.match(itemIn(finished, live.id)!.description, new RegExp(`${STEPS}/${STEPS} · succeeded`));
    const hostLog = fs.readFileSync(path.join(os.homedir(), live.remoteDir, 'run.log'), 'utf8');
    assert.equal(r.logChars, hostLog.length, 'the whole run.log arrived');
  }, 180_000);

  it('Use This Checkpoint downloads the final checkpoint into globalStorage and sets the task\'s model setting', async () => {
    const message = await vscode.commands.executeCommand<string | null | undefined>('pix2struct.training.useCheckpoint', live.id);
    assert.ok(message, 'no message (see the Pix2Struct log)');
    const folder = vscode.workspace.getConfiguration('pix2struct').get<string>('summaryModelPath')!;
    assert.ok(folder.includes(path.join('checkpoints', live.id, 'final')), `summaryModelPath is ${folder}`);
    const onHost = fs.readFileSync(path.join(os.homedir(), live.remoteDir, 'checkpoints/final/config.json'), 'utf8');
    assert.equal(fs.readFileSync(path.join(folder, 'config.json'), 'utf8'), onHost);
  }, 60_000);

  it('discovers a run started elsewhere on the default host', async () => {
    const other = await submit('started from another machine');
    await training().update('defaultHost', sshd!.host, vscode.ConfigurationTarget.Global);
    const added = await vscode.commands.executeCommand<number>('pix2struct.training.refresh');
    assert.ok(added >= 1, `refresh added ${added}`);
    const s = await waitFor('the discovered run to be followed', async () => {
      const snap = await snapshot();
      return runIn(snap, other.id)?.status && snap;
    });
    assert.equal(itemIn(s, other.id)?.label, 'started from another machine');
    await launcher.cancel(other);
  }, 120_000);


  it('the finished run\'s panel stays as it was (no new connection) when opened again', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('pix2struct.trainingRuns.focus');
    await vscode.commands.executeCommand('pix2struct.training.openRunPanel', live.id);
    const s = await snapshot();
    assert.equal(runIn(s, live.id)?.connection, 'ended');
    assert.equal(s.panels.find((p) => p.id === live.id)?.rendered?.points, STEPS);
    // The runner takes its screenshot (test-results/e2e-training.png) with this panel in front.
  });
});
