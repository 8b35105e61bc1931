// The Launcher over a real sshd on 127.0.0.1 with the real control.py and supervisor; the
// training interpreter is test/remote/fake-train-python (the real fine-tune has its own test,
// launcher-finetune.test.ts). Covers states, dropped connections, rediscovery, cancel, hostile
// names, and the connection errors a user meets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSshd, sshdAvailable, processesInGroup, type TestSshd } from '../helpers/sshd';
import { launcherEnv, FAKE_TRAIN_PYTHON, type LauncherEnv } from '../helpers/launcher-env';
import type { MetricPoint, RunSpec, RunState, RunStatus } from '../../training/launcher/types';
import { RUN_STATES } from '../../training/launcher/types';
import type { Launcher } from '../../training/launcher/launcher';
import { HostKeyUnknownError, HostUnreachableError } from '../../training/launcher/errors';

const skip = sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and rsync';

function fakeSpec(datasetPath: string, overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    name: 'lifecycle', task: 'screen2words', backend: 'gpu',
    dataset: { format: 'screen2words', path: datasetPath, location: 'local' },
    baseModel: 'google/pix2struct-base', python: FAKE_TRAIN_PYTHON,
    steps: 4, batchSize: 1, gradAccum: 1, learningRate: 0.01, optimizer: 'adafactor', warmupSteps: 0,
    maxPatches: 64, maxTargetLength: 16, evalEvery: 0, saveEvery: 2, bf16: 'off', seed: 0,
    ...overrides,
  };
}

interface Collected {
  log: string;
  metrics: MetricPoint[];
  statuses: RunStatus[];
  reconnects: string[];
}

function collector(): { handlers: Parameters<Launcher['tail']>[1]; got: Collected } {
  const got: Collected = { log: '', metrics: [], statuses: [], reconnects: [] };
  return {
    got,
    handlers: {
      onLog: (t) => (got.log += t),
      onMetric: (m) => got.metrics.push(m),
      onStatus: (s) => got.statuses.push(s),
      onReconnect: (n, reason) => got.reconnects.push(`${n}: ${reason}`),
    },
  };
}

/** The states named by run.log's "state: X" lines, in order. */
const logStates = (log: string) => [...log.matchAll(/\] state: ([a-z]+)/g)].map((m) => m[1]);

const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('Launcher over a real sshd (fake training interpreter)', { skip }, () => {
  let sshd: TestSshd;
  let env: LauncherEnv;
  let work: string;
  let dataset: string;

  before(async () => {
    sshd = await startSshd();
    env = launcherEnv(sshd, 'lifecycle');
    work = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-lifecycle-'));
    dataset = path.join(work, 'dataset');
    fs.mkdirSync(dataset);
    fs.writeFileSync(path.join(dataset, 'placeholder.txt'), 'the fake interpreter only checks that the folder exists\n');
  });
  after(async () => {
    // Whatever a failed test left behind: the fake trainer's session-detached helpers.
    const runs = path.join(os.homedir(), env.remoteRoot, 'runs');
    for (const id of fs.existsSync(runs) ? fs.readdirSync(runs) : []) killFakeHelper(path.join(runs, id));
    await env?.dispose();
    await sshd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('submit → tail sees preparing, uploading, installing, running, succeeded; log and metrics match the host files', async () => {
    const launcher = env.launcher();
    const { handlers, got } = collector();
    const submitStates: RunState[] = [];
    let tailing: Promise<RunStatus> | undefined;
    const record = await launcher.submit(env.target, fakeSpec(dataset), (state, rec) => {
      submitStates.push(state);
      // Follow from the moment the run folder exists, as the UI does.
      tailing ??= launcher.tail(rec, handlers);
    });
    assert.deepEqual(submitStates, ['preparing', 'uploading']);
    const final = await tailing!;
    assert.equal(final.state, 'succeeded', final.message);
    assert.equal(final.finalCheckpoint, 'checkpoints/final');
    assert.deepEqual(logStates(got.log), ['preparing', 'uploading', 'installing', 'running', 'succeeded']);
    // Whatever the stream saw of status.json moves forward through the states only.
    const order = got.statuses.map((s) => RUN_STATES.indexOf(s.state));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.equal(got.statuses.at(-1)!.state, 'succeeded');
    const hostDir = env.hostRunDir(record);
    assert.equal(got.log, fs.readFileSync(path.join(hostDir, 'run.log'), 'utf8'));
    const hostMetrics = fs.readFileSync(path.join(hostDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(got.metrics.map((m) => [m.step, m.split, m.values.loss]), hostMetrics.map((m) => [m.step, m.split, m.loss]));
    assert.deepEqual(fs.readdirSync(path.join(hostDir, 'upload', 'dataset')), ['placeholder.txt']);
    const status = await launcher.status(record);
    assert.equal(status.state, 'succeeded');
    assert.deepEqual(status.checkpoints, ['checkpoints/step-2', 'checkpoints/step-4']);
    // A second tail from the end only reports the terminal status.
    const again = collector();
    const position = { logOffset: Buffer.byteLength(got.log), metricsOffset: fs.statSync(path.join(hostDir, 'metrics.jsonl')).size };
    assert.equal((await launcher.tail(record, again.handlers, { from: position })).state, 'succeeded');
    assert.deepEqual([again.got.log, again.got.metrics.length], ['', 0]);
    const fetched = await launcher.fetchCheckpoint(record, path.join(work, 'ckpt-step-2'), 'checkpoints/step-2');
    assert.deepEqual(fs.readdirSync(fetched), ['config.json']);
  });

  test('sshd killed mid-run and restarted: the tail reattaches, nothing lost or repeated; a new Launcher finds and finishes it', async () => {
    const launcher = env.launcher();
    const record = await launcher.submit(env.target, fakeSpec(dataset, { name: 'survives drops', steps: 24 }));
    const { handlers, got } = collector();
    const tailing = launcher.tail(record, handlers);
    await waitFor('training output', () => got.metrics.length >= 3);
    await sshd.kill();
    await new Promise((r) => setTimeout(r, 1500)); // the run keeps writing while nobody listens
    await sshd.restart();
    const final = await tailing;
    assert.equal(final.state, 'succeeded', final.message);
    assert.ok(got.reconnects.length >= 1, 'the drop was noticed');
    const hostDir = env.hostRunDir(record);
    assert.equal(got.log, fs.readFileSync(path.join(hostDir, 'run.log'), 'utf8'));
    assert.deepEqual(got.metrics.map((m) => m.step), Array.from({ length: 24 }, (_, i) => i + 1));

    // A fresh launcher (VS Code reloaded) knows nothing but the host, and finds the run there.
    const fresh = env.launcher();
    const runs = await fresh.listRuns(env.target);
    const found = runs.find((r) => r.id === record.id);
    assert.ok(found, `listRuns: ${JSON.stringify(runs)}`);
    assert.deepEqual([found.name, found.task, found.state, found.remoteDir], ['survives drops', 'screen2words', 'succeeded', record.remoteDir]);
    const replay = collector();
    assert.equal((await fresh.tail(found, replay.handlers)).state, 'succeeded');
    assert.equal(replay.got.log, got.log);
  });

  test('a new Launcher tails a run that is still going, started by another', async () => {
    const first = env.launcher();
    const record = await first.submit(env.target, fakeSpec(dataset, { name: 'handover', steps: 8 }));
    await first.dispose();
    const second = env.launcher();
    const found = (await second.listRuns(env.target)).find((r) => r.id === record.id);
    assert.ok(found);
    assert.ok(!['succeeded', 'failed', 'cancelled'].includes(found.state), `still running, got ${found.state}`);
    const { handlers, got } = collector();
    assert.equal((await second.tail(found, handlers)).state, 'succeeded');
    assert.equal(got.metrics.length, 8);
    assert.equal(got.log, fs.readFileSync(path.join(env.hostRunDir(record), 'run.log'), 'utf8'));
  });

  test('cancel leaves no process of the run on the host', async () => {
    const launcher = env.launcher();
    const record = await launcher.submit(env.target, fakeSpec(dataset, { name: 'to cancel', steps: 400 }));
    const { handlers, got } = collector();
    const tailing = launcher.tail(record, handlers);
    await waitFor('training', () => got.metrics.length >= 1);
    // A caller that stops listening (panel closed) aborts only its tail, not the run.
    const listener = new AbortController();
    const extra = launcher.tail(record, {}, { signal: listener.signal });
    listener.abort();
    await assert.rejects(extra, { name: 'AbortError' });
    const before = await launcher.status(record);
    assert.equal(before.state, 'running');
    assert.ok(before.pgid && processesInGroup(before.pgid).length > 0, 'the run has processes before cancel');
    // The trainer also started a helper in a session of its own (as distributed launchers do).
    const helperPid = Number(fs.readFileSync(path.join(env.hostRunDir(record), 'fake-helper.pid'), 'utf8'));
    assert.ok(isAlive(helperPid));
    const cancelled = await launcher.cancel(record);
    assert.equal(cancelled.state, 'cancelled');
    assert.deepEqual(processesInGroup(before.pgid), []);
    assert.equal(isAlive(helperPid), false, 'the helper in its own session is stopped too');
    assert.equal((await tailing).state, 'cancelled');
    assert.equal((await launcher.cancel(record)).state, 'cancelled', 'cancel is idempotent');
  });

  test('a run name and dataset path full of shell syntax run nothing and still work', async () => {
    const marker = path.join(work, 'pwned');
    const hostile = `it's "x"; $(touch ${marker}) \`touch ${marker}\` & touch ${marker} | $HOME`;
    const odd = path.join(work, `data set; $(touch ${marker}) 'q'`);
    fs.mkdirSync(odd, { recursive: true });
    fs.writeFileSync(path.join(odd, `file $(touch ${marker}).txt`.replace(/\//g, '_')), 'x\n');
    const launcher = env.launcher();
    const { handlers } = collector();
    const record = await launcher.submit(env.target, fakeSpec(odd, { name: hostile }));
    const final = await launcher.tail(record, handlers);
    assert.equal(final.state, 'succeeded', final.message);
    assert.equal(fs.existsSync(marker), false);
    assert.equal(fs.existsSync(path.join(os.homedir(), 'pwned')), false);
    const found = (await launcher.listRuns(env.target)).find((r) => r.id === record.id);
    assert.equal(found?.name, hostile);
    const spec = JSON.parse(fs.readFileSync(path.join(env.hostRunDir(record), 'spec.json'), 'utf8'));
    assert.equal(spec.name, hostile);
    assert.equal(fs.readdirSync(path.join(env.hostRunDir(record), 'upload', 'dataset')).length, 1);
  });

  test('a dataset that does not exist on the host fails the run with the reason', async () => {
    const launcher = env.launcher();
    const record = await launcher.submit(env.target, {
      ...fakeSpec('/nonexistent/p2s-dataset'),
      dataset: { format: 'screen2words', path: '/nonexistent/p2s-dataset', location: 'remote' },
    });
    const { handlers, got } = collector();
    const final = await launcher.tail(record, handlers);
    assert.equal(final.state, 'failed');
    assert.match(got.log, /\/nonexistent\/p2s-dataset does not exist/);
  });

  test('an unknown host key stops submit with instructions; nothing is accepted silently', async () => {
    const launcher = env.launcher();
    await assert.rejects(launcher.submit({ kind: 'ssh', host: sshd.unknownKeyHost }, fakeSpec(dataset)), (e: Error) => {
      assert.ok(e instanceof HostKeyUnknownError, `${e.name}: ${e.message}`);
      assert.match(e.message, /ssh p2s-test-unknown-key/);
      return true;
    });
    assert.equal(fs.readFileSync(path.join(sshd.dir, 'known_hosts_empty'), 'utf8'), '');
  });

  test('an unreachable host fails fast with a clear error', async () => {
    const launcher = env.launcher();
    const start = Date.now();
    await assert.rejects(launcher.listRuns({ kind: 'ssh', host: sshd.downHost }), (e: Error) => {
      assert.ok(e instanceof HostUnreachableError, `${e.name}: ${e.message}`);
      assert.match(e.message, /Cannot reach p2s-test-down: .*Connection refused/);
      return true;
    });
    assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
  });

  test('a host without the control interpreter says so', async () => {
    const launcher = env.launcher({ controlPython: 'no-such-python3' });
    await assert.rejects(launcher.listRuns(env.target), /no-such-python3 was not found on the host; install Python 3.8/);
  });

  test('a tail that cannot reconnect gives up after the configured time', async () => {
    const launcher = env.launcher({ reconnect: { initialDelayMs: 100, maxDelayMs: 300, giveUpAfterMs: 2000, stallMs: 5000 } });
    const record = await launcher.submit(env.target, fakeSpec(dataset, { name: 'gives up', steps: 30 }));
    const { handlers, got } = collector();
    const tailing = launcher.tail(record, handlers);
    await waitFor('training', () => got.metrics.length >= 1);
    await sshd.kill();
    const start = Date.now();
    try {
      await assert.rejects(tailing, (e: Error) => {
        assert.equal(e.name, 'TailGaveUpError');
        assert.match(e.message, /keeps going on the host/);
        return true;
      });
      assert.ok(Date.now() - start < 8000, `gave up after ${Date.now() - start} ms`);
    } finally {
      await sshd.restart();
      await launcher.cancel(record);
      killFakeHelper(env.hostRunDir(record));
    }
  });
});

/** Stops the fake trainer's session-detached helper of a run this file started (see the todo test). */
function killFakeHelper(runDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, 'fake-helper.pid'), 'utf8'));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    /* no helper */
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
