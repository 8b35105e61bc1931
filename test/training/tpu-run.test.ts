// A whole TPU run through fake-gcloud (fake cloud API, real sshd, real control.py and pipeline on
// the "VM"), compared with the original README's workflow. t5x and Beam cannot run here, so the
// pipeline runs in dry-run mode: it records the exact command lines instead of executing them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { startFakeGcloud, type FakeGcloud } from '../helpers/fake-gcloud';
import { runOnTpuVm, tpuOptionsToWire, type TpuRunEvent } from '../../training/launcher/tpu-run';
import { hostsForAcceleratorType, tpuCostWarning, type TpuVmTarget } from '../../training/launcher/tpu-lifecycle';
import { RemoteCommandError } from '../../training/launcher/errors';
import { registerTpuVmTransport } from '../../training/launcher/tpu-transport';
import { Launcher } from '../../training/launcher/launcher';

const skip = sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and scp';
const ROOT = path.resolve(__dirname, '../..');
const README = path.resolve(ROOT, '../shared/seed/pix2struct-README.md');
const CODE_DIR = path.join(ROOT, 'training/remote');

/** The README's shell blocks as commands: continuations joined, VAR=value lines applied to later $VAR. */
function readmeShell(): string[][] {
  const text = fs.readFileSync(README, 'utf8');
  const vars: Record<string, string> = {};
  const expand = (w: string) => w.replace(/\$([A-Z_]+)/g, (m, name: string) => vars[name] ?? m);
  const commands: string[][] = [];
  for (const block of text.matchAll(/```\n([\s\S]*?)```/g)) {
    for (const line of block[1].replace(/\\\n/g, ' ').split('\n')) {
      const assign = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
      if (assign) vars[assign[1]] = expand(assign[2]);
      else if (line.trim()) commands.push(line.trim().split(/\s+/).map(expand));
    }
  }
  return commands;
}
const readmeCommand = (...prefix: string[]) => {
  const found = readmeShell().find((c) => prefix.every((p, i) => c[i] === p));
  assert.ok(found, `README has no ${prefix.join(' ')}`);
  return found;
};
const flag = (argv: readonly string[], name: string) => argv.find((w) => w.startsWith(`--${name}=`))?.split('=').slice(1).join('=');

/** The t5x.train command of the README, in shell-quoted form, as argv (its quoting is simple). */
function readmeTrainArgv(): string[] {
  const text = fs.readFileSync(README, 'utf8');
  const block = /```\n(python -m t5x\.train[\s\S]*?)```/.exec(text)![1].replace(/\\\n/g, ' ');
  return [...block.matchAll(/(?:[^\s"]+|"[^"]*")+/g)].map((m) => m[0].replace(/"/g, ''));
}

const hostileName = `my run; $(touch p2s-marker) \`touch p2s-marker\` it's "quoted"`;
const hostileBucket = `gs://user-bucket/it's a "run" $(touch p2s-marker); touch p2s-marker`;

function spec(bucket = hostileBucket) {
  return {
    name: hostileName, task: 'screen2words', backend: 'tpu', dataset: { format: 'screen2words', path: 'upload/dataset' },
    base_model: 'google/pix2struct-base', python: null, steps: 200, batch_size: 32, grad_accum: 1, learning_rate: 0.01,
    optimizer: 'adafactor', warmup_steps: 0, max_patches: 4096, max_target_length: 128, eval_every: 0, save_every: 0,
    bf16: 'auto', num_processes: null, seed: 0,
    tpu: tpuOptionsToWire({ bucket, ginSize: 'base' }),
  };
}

interface Classified { kind: string; argv: string[]; phase?: string; worker?: string }
function classify(argv: string[]): Classified {
  const kind = argv[3];
  const command = flag(argv, 'command');
  const phase = command ? /pix2struct_remote\.tpu start (\w+)/.exec(command)?.[1] : undefined;
  return { kind, argv, phase, worker: flag(argv, 'worker') };
}

describe('a TPU run through fake-gcloud (fake cloud API, real sshd)', { skip }, () => {
  let sshd: TestSshd;
  let fake: FakeGcloud;
  let work: string;
  let dataset: string;

  before(async () => {
    sshd = await startSshd();
    fake = startFakeGcloud(sshd, { 'v3-8': 1, 'v4-16': 2 });
    work = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-tpu-run-'));
    dataset = path.join(work, 'screen2words data');
    fs.mkdirSync(dataset);
    fs.writeFileSync(path.join(dataset, 'screen_summaries.csv'), 'screenId,summary\n1,a settings page\n');
  });
  after(async () => {
    await sshd?.stop();
    fake?.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const noMarkerAnywhere = () => {
    for (const dir of [work, process.cwd(), fake.dir, fake.workerHome('x', 0).replace(/\/x\/worker-0$/, '')]) {
      assert.equal(fs.existsSync(path.join(dir, 'p2s-marker')), false, dir);
    }
  };

  test('the README workflow in order: create → code → install → preprocess → train → convert → delete', async () => {
    const create = readmeCommand('gcloud', 'compute', 'tpus', 'tpu-vm', 'create');
    const sshReadme = readmeCommand('gcloud', 'compute', 'tpus', 'tpu-vm', 'ssh');
    const del = readmeCommand('gcloud', 'compute', 'tpus', 'tpu-vm', 'delete');
    const target: TpuVmTarget = {
      kind: 'tpu-vm', name: create[5], zone: flag(create, 'zone')!, acceleratorType: flag(create, 'accelerator-type')!,
      runtimeVersion: flag(create, 'version')!, keepAfterRun: false,
    };
    const local = path.join(work, 'run-a');
    fake.clearCalls();
    const events: TpuRunEvent[] = [];
    const result = await runOnTpuVm({
      target, runId: '20261124-211500-aaaaaa', spec: spec(), codeDir: CODE_DIR, gcloud: fake.gcloud, localDataset: dataset,
      dryRun: true, localRunDir: local, pollMs: 1, onEvent: (e) => events.push(e),
    });
    const calls = fake.calls().map(classify);

    assert.deepEqual(calls.find((c) => c.kind === 'create')!.argv, create.slice(1), 'create exactly as the README');
    assert.deepEqual(calls.at(-1)!.argv, [...del.slice(1), '--quiet'], 'the last call deletes the VM as the README does');
    for (const c of calls.filter((x) => x.kind === 'ssh')) assert.deepEqual(c.argv.slice(0, 6), sshReadme.slice(1), 'ssh as the README');

    const order = calls.map((c) => (c.phase ? `ssh:${c.phase}` : c.kind));
    const at = (what: string) => order.indexOf(what);
    assert.ok(at('describe') < at('create'), 'looks for the VM first');
    assert.ok(at('create') < at('scp') && at('scp') < at('ssh:install'), 'code is copied after create, before install');
    assert.deepEqual(order.filter((o) => o.startsWith('ssh:')), ['ssh:install', 'ssh:preprocess', 'ssh:train', 'ssh:convert']);
    assert.ok(at('ssh:convert') < at('delete'));
    assert.equal(result.workers, 1);
    assert.ok(calls.every((c) => c.kind !== 'ssh' && c.kind !== 'scp' || c.worker === '0'), 'a v3-8 is one host: worker 0');
    assert.ok(result.deleted && result.created && events.some((e) => e.kind === 'deleted'));
    assert.ok(events[0].kind === 'cost-warning' && /billed by the hour/.test(events[0].message));
    assert.equal(fs.existsSync(fake.workerHome(target.name, 0)), false, 'the VM and its disk are gone');
    assert.deepEqual(fake.state().nodes, {});

    // What the pipeline on the VM would have run, fetched before the delete.
    const status = JSON.parse(fs.readFileSync(path.join(local, 'status.json'), 'utf8'));
    assert.equal(status.state, 'succeeded');
    assert.match(status.message, /dry run/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(local, 'spec.json'), 'utf8')).name, hostileName, 'user text arrived as data');
    const steps = fs.readFileSync(path.join(local, 'tpu-dry-run.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual([...new Set(steps.map((s) => s.phase))], ['install', 'stage', 'preprocess', 'train', 'convert']);
    const clone = readmeCommand('git', 'clone');
    assert.deepEqual(steps[0].argv.slice(0, 3), clone);
    const pip = readmeShell().find((c) => c[0] === 'pip' && c[1] === 'install')!;
    assert.deepEqual(steps[1].argv.slice(steps[1].argv.indexOf('pip')), pip.map((w) => w.replace(/"/g, '')));

    const train = steps.find((s) => s.phase === 'train').argv as string[];
    const readmeTrain = readmeTrainArgv();
    const ginFiles = (argv: string[]) => argv.filter((w) => w.startsWith('--gin_file=') || w.startsWith('--gin_search_paths='));
    assert.deepEqual(ginFiles(train), ginFiles(readmeTrain));
    for (const key of ['MIXTURE_OR_TASK_NAME', 'TASK_FEATURE_LENGTHS', 'BATCH_SIZE']) {
      assert.equal(flag(train, `gin.${key}`), flag(readmeTrain, `gin.${key}`), key);
    }
    // gin parses a Python string literal: Python itself reads the value back.
    const modelDir = execFileSync('python3', ['-c', 'import ast, sys; sys.stdout.write(ast.literal_eval(sys.argv[1]))', flag(train, 'gin.MODEL_DIR')!], { encoding: 'utf8' });
    assert.equal(modelDir, `${hostileBucket}/experiments/20261124-211500-aaaaaa`, 'MODEL_DIR in the bucket, text intact');
    const preprocess = steps.find((s) => s.phase === 'preprocess');
    assert.equal(preprocess.argv[2], readmeCommand('python', '-m', 'pix2struct.preprocessing.convert_screen2words')[2]);
    const stage = steps.find((s) => s.phase === 'stage');
    assert.match(stage.argv[4], /runs\/20261124-211500-aaaaaa\/upload\/dataset$/);
    const convert = steps.find((s) => s.argv.includes('--t5x_checkpoint_path'));
    assert.match(convert.argv.join(' '), /convert_pix2struct_original_pytorch_to_hf --t5x_checkpoint_path .*checkpoint_DRY_RUN --pytorch_dump_folder_path .*checkpoints\/final/);
    assert.equal(steps.at(-1).argv.at(-1), `${hostileBucket}/experiments/20261124-211500-aaaaaa/hf_final`, 'the checkpoint is kept in the bucket before the VM goes');
    noMarkerAnywhere();
  });

  test('a multi-host slice: --worker=all for install and train; keepAfterRun keeps it and warns about cost', async () => {
    const target: TpuVmTarget = { kind: 'tpu-vm', name: 'p2s-slice', zone: 'us-central2-b', acceleratorType: 'v4-16', runtimeVersion: 'tpu-ubuntu2204-base', keepAfterRun: true };
    assert.equal(hostsForAcceleratorType('v4-16'), fake.state().workersByType['v4-16'], 'the heuristic agrees with the API');
    fake.clearCalls();
    const events: TpuRunEvent[] = [];
    const result = await runOnTpuVm({ target, runId: 'r-slice', spec: spec(), codeDir: CODE_DIR, gcloud: fake.gcloud, dryRun: true, pollMs: 1, onEvent: (e) => events.push(e) });
    const calls = fake.calls().map(classify);
    const phases = calls.filter((c) => c.phase).map((c) => [c.phase, c.worker]);
    assert.deepEqual(phases, [['install', 'all'], ['preprocess', '0'], ['train', 'all'], ['convert', '0']]);
    assert.ok(calls.some((c) => c.kind === 'scp' && c.worker === 'all' && c.argv.includes('--recurse')), 'code reaches every worker');
    assert.ok(calls.some((c) => c.kind === 'scp' && c.worker === '1'), 'spec.json reaches worker 1');
    assert.equal(calls.some((c) => c.kind === 'delete'), false, 'kept');
    assert.equal(result.deleted, false);
    assert.ok(fake.state().nodes['us-central2-b/p2s-slice']);

    const warning = tpuCostWarning(target);
    assert.equal(result.costWarning, warning);
    assert.match(warning, /KEPT/);
    assert.match(warning, /gcloud compute tpus tpu-vm delete p2s-slice --zone=us-central2-b/);
    assert.deepEqual(events.filter((e) => e.kind === 'cost-warning' || e.kind === 'kept').map((e) => e.kind), ['cost-warning', 'kept']);

    const record = (w: number) => fs.readFileSync(path.join(fake.workerHome('p2s-slice', w), '.pix2struct/runs/r-slice/tpu-dry-run.jsonl'), 'utf8')
      .trim().split('\n').map((l) => JSON.parse(l).phase);
    assert.deepEqual([...new Set(record(1))], ['install', 'train'], 'worker 1 installs and trains only');
    assert.deepEqual([...new Set(record(0))], ['install', 'stage', 'preprocess', 'train', 'convert']);

    // The Launcher follows the kept VM's run like any other, through the registered TPU transport.
    registerTpuVmTransport(fake.gcloud);
    const launcher = new Launcher({ codeDir: CODE_DIR });
    try {
      const runRecord = { id: 'r-slice', name: hostileName, task: 'screen2words' as const, target, remoteDir: result.remoteDir, createdAt: new Date().toISOString() };
      assert.equal((await launcher.status(runRecord)).state, 'succeeded');
      let log = '';
      const final = await launcher.tail(runRecord, { onLog: (text) => (log += text) });
      assert.equal(final.state, 'succeeded');
      assert.match(log, /dry run, not executed: t5x\.train/);
    } finally {
      await launcher.dispose();
    }

    // Reattaching later (say, after VS Code was closed) finishes the run's life: nothing is started
    // again, and now that the VM is not kept it is deleted.
    fake.clearCalls();
    const resumed = await runOnTpuVm({ target: { ...target, keepAfterRun: false }, runId: 'r-slice', spec: spec(), codeDir: CODE_DIR, gcloud: fake.gcloud, dryRun: true, resume: true, pollMs: 1 });
    const again = fake.calls().map(classify);
    assert.deepEqual(again.filter((c) => c.phase || c.kind === 'create' || /control\.py init/.test(flag(c.argv, 'command') ?? '')), [], 'nothing started twice');
    assert.equal(again.at(-1)!.kind, 'delete');
    assert.ok(resumed.deleted);
    await assert.rejects(
      runOnTpuVm({ target, runId: 'r-slice', spec: spec(), codeDir: CODE_DIR, gcloud: fake.gcloud, resume: true, pollMs: 1 }),
      /no longer exists/,
    );
    noMarkerAnywhere();
  });

  test('cancelling sends cancel for the current phase to the VM, starts nothing more, and deletes the VM', async () => {
    const target: TpuVmTarget = { kind: 'tpu-vm', name: 'p2s-cancel', zone: 'europe-west4-a', acceleratorType: 'v3-8', runtimeVersion: 'tpu-vm-base', keepAfterRun: false };
    const local = path.join(work, 'run-cancel');
    const stop = new AbortController();
    fake.clearCalls();
    await assert.rejects(runOnTpuVm({
      target, runId: 'r-cancel', spec: spec(), codeDir: CODE_DIR, gcloud: fake.gcloud, dryRun: true, localRunDir: local, pollMs: 1, signal: stop.signal,
      onEvent: (e) => { if (e.kind === 'phase' && e.phase === 'preprocess') stop.abort(new Error('cancelled by the user')); },
    }), /cancelled by the user/);
    const commands = fake.calls().map((c) => flag(c, 'command') ?? c[3]);
    assert.ok(commands.some((c) => /pix2struct_remote\.tpu cancel preprocess/.test(c)), 'the phase is stopped on the VM');
    assert.equal(commands.some((c) => /tpu start train/.test(c)), false, 'nothing after it starts');
    assert.equal(JSON.parse(fs.readFileSync(path.join(local, 'status.json'), 'utf8')).state, 'cancelled');
    assert.equal(fake.calls().at(-1)![3], 'delete');
  });

  test('a failing phase fails the run with the pipeline\'s reason, and the VM is still deleted', async () => {
    const target: TpuVmTarget = { kind: 'tpu-vm', name: 'p2s-bad', zone: 'europe-west4-a', acceleratorType: 'v3-8', runtimeVersion: 'tpu-vm-base', keepAfterRun: false };
    const local = path.join(work, 'run-bad');
    fake.clearCalls();
    await assert.rejects(
      runOnTpuVm({ target, runId: 'r-bad', spec: spec('gs://Not A Bucket/x'), codeDir: CODE_DIR, gcloud: fake.gcloud, dryRun: true, localRunDir: local, pollMs: 1 }),
      (e: Error) => e instanceof RemoteCommandError && /TPU install/.test(e.message) && /bucket/.test(e.message),
    );
    assert.equal(JSON.parse(fs.readFileSync(path.join(local, 'status.json'), 'utf8')).state, 'failed', 'failed stays failed (not cancelled)');
    assert.ok(fake.calls().some((c) => /pix2struct_remote\.tpu cancel install/.test(flag(c, 'command') ?? '')), 'the phase is stopped on every worker it ran on');
    assert.equal(fake.calls().at(-1)![3], 'delete');
    assert.deepEqual(fake.state().nodes['europe-west4-a/p2s-bad'], undefined);
  });
});
