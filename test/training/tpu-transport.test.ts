// TpuTransport through fake-gcloud: the cloud API is fake, ssh and scp run against a real sshd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { startFakeGcloud, type FakeGcloud } from '../helpers/fake-gcloud';
import { TpuTransport } from '../../training/launcher/tpu-transport';
import { ensureTpuVm, type TpuVmTarget } from '../../training/launcher/tpu-lifecycle';
import { Gcloud, GcloudNotAuthenticatedError, GcloudNotInstalledError, GcloudQuotaError } from '../../training/launcher/gcloud';
import { LauncherInputError, UnsafeWordError } from '../../training/launcher/errors';

const skip = sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and scp';
const target = (name: string, acceleratorType = 'v3-8'): TpuVmTarget => ({ kind: 'tpu-vm', name, zone: 'europe-west4-a', acceleratorType, runtimeVersion: 'tpu-vm-base', keepAfterRun: true });

describe('TpuTransport over fake-gcloud and a real sshd', { skip }, () => {
  let sshd: TestSshd;
  let fake: FakeGcloud;
  let work: string;

  before(async () => {
    sshd = await startSshd();
    fake = startFakeGcloud(sshd, { 'v3-8': 1, 'v4-16': 2 });
    work = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-tpu-transport-'));
    await ensureTpuVm(fake.gcloud, target('t-one'), { pollMs: 1 });
    await ensureTpuVm(fake.gcloud, target('t-slice', 'v4-16'), { pollMs: 1 });
  });
  after(async () => {
    await sshd?.stop();
    fake?.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('ssh: gcloud gets the VM, zone, worker and one --command of safe words; stdin arrives byte for byte', async () => {
    const t = new TpuTransport(target('t-one'), { gcloud: fake.gcloud });
    fake.clearCalls();
    const data = `bucket "gs://x y/it's" $(touch ${work}/marker) \`id\` ünïcode\n`;
    const r = await t.exec(['cat'], { stdin: data });
    assert.deepEqual([r.code, r.stdout], [0, data]);
    assert.equal(fs.existsSync(path.join(work, 'marker')), false);
    assert.deepEqual(fake.calls(), [['compute', 'tpus', 'tpu-vm', 'ssh', 't-one', '--zone=europe-west4-a', '--worker=0', '--command=cat']]);
    const pwd = await t.exec(['pwd']);
    assert.equal(pwd.stdout.trim(), fake.workerHome('t-one', 0), 'commands run in the VM home');
    assert.equal((await t.exec(['false'])).code, 1);
  });

  test('refuses unsafe words before gcloud runs', async () => {
    const t = new TpuTransport(target('t-one'), { gcloud: fake.gcloud });
    fake.clearCalls();
    for (const word of [`$(touch ${work}/marker)`, 'a b', "it's", 'x;y', '']) {
      await assert.rejects(t.exec(['echo', word]), UnsafeWordError);
    }
    assert.deepEqual(fake.calls(), []);
    assert.throws(() => new TpuTransport({ name: '--zone=x', zone: 'europe-west4-a' }), LauncherInputError);
  });

  test('--worker=all reaches every host of a slice; stdin to all is refused', async () => {
    const all = new TpuTransport(target('t-slice', 'v4-16'), { gcloud: fake.gcloud, worker: 'all' });
    const r = await all.exec(['touch', 'here']);
    assert.equal(r.code, 0);
    for (const w of [0, 1]) assert.ok(fs.existsSync(path.join(fake.workerHome('t-slice', w), 'here')), `worker ${w}`);
    await assert.rejects(all.exec(['cat'], { stdin: 'x' }), LauncherInputError);
  });

  test('scp upload and download keep odd file names as data', async () => {
    const src = path.join(work, 'dataset: v2');
    fs.mkdirSync(path.join(src, 'sub dir'), { recursive: true });
    const names = ['$(touch p2s-marker).txt', '`touch p2s-marker`', "it's \"quoted\".json", '-rf', 'a:b.png'];
    for (const n of names) fs.writeFileSync(path.join(src, n), `content of ${n}`);
    fs.writeFileSync(path.join(src, 'sub dir', 'x.txt'), 'nested');
    const t = new TpuTransport(target('t-one'), { gcloud: fake.gcloud });
    await t.exec(['mkdir', '-p', 'runs/r1/upload']);
    fs.mkdirSync(path.join(fake.workerHome('t-one', 0), 'runs/r1/upload/dataset'), { recursive: true });
    fs.writeFileSync(path.join(fake.workerHome('t-one', 0), 'runs/r1/upload/dataset/already.txt'), 'kept');
    fake.clearCalls();
    await t.upload(src, 'runs/r1/upload/dataset');
    const scp = fake.calls().find((c) => c[3] === 'scp')!;
    assert.ok(scp.includes('--recurse') && scp.includes('--worker=0'));
    const landed = path.join(fake.workerHome('t-one', 0), 'runs/r1/upload/dataset');
    assert.deepEqual(fs.readdirSync(landed).sort(), [...names, 'already.txt', 'sub dir'].sort(), 'contents of the folder, merged into the existing one');
    for (const n of names) assert.equal(fs.readFileSync(path.join(landed, n), 'utf8'), `content of ${n}`);
    const back = path.join(work, 'back');
    await t.download('runs/r1/upload/dataset', back);
    assert.equal(fs.readFileSync(path.join(back, 'sub dir', 'x.txt'), 'utf8'), 'nested');
    assert.equal(fs.readFileSync(path.join(back, "it's \"quoted\".json"), 'utf8'), "content of it's \"quoted\".json");
    for (const dir of [fake.workerHome('t-one', 0), landed, work, process.cwd()]) assert.equal(fs.existsSync(path.join(dir, 'p2s-marker')), false, dir);
    await assert.rejects(t.upload(src, '../escape'), LauncherInputError);
  });

  test('typed errors: gcloud missing, not signed in, out of quota', async () => {
    await assert.rejects(new Gcloud({ binary: path.join(work, 'no-gcloud-here') }).check(['version']), GcloudNotInstalledError);
    fake.update({ authenticated: false });
    try {
      await assert.rejects(ensureTpuVm(fake.gcloud, target('t-new')), (e: Error) => e instanceof GcloudNotAuthenticatedError && /gcloud auth login/.test(e.message));
    } finally {
      fake.update({ authenticated: true });
    }
    fake.update({ quotaExceeded: true });
    try {
      await assert.rejects(ensureTpuVm(fake.gcloud, target('t-new')), GcloudQuotaError);
    } finally {
      fake.update({ quotaExceeded: false });
    }
  });
});
