// submitTpuRun, the way the extension starts a Cloud TPU run: the RunSpec (camelCase, as the wizard
// builds it) reaches the VM's spec.json with its pipeline settings, the record comes back once the
// run folder exists, and the Launcher follows the run through the TPU transport.
// fake-gcloud stands in for the cloud API only; ssh/scp reach a real sshd and real control.py.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { startFakeGcloud, type FakeGcloud } from '../helpers/fake-gcloud';
import { submitTpuRun } from '../../training/launcher/tpu-submit';
import { registerTpuVmTransport } from '../../training/launcher/tpu-transport';
import { Launcher } from '../../training/launcher/launcher';
import { LauncherInputError } from '../../training/launcher/errors';
import type { RunSpec } from '../../training/launcher/types';
import type { TpuVmTarget } from '../../training/launcher/tpu-lifecycle';
import { RUN_ID_PATTERN } from '../../training/launcher/run-id';

const skip = sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and scp';
const CODE_DIR = path.resolve(__dirname, '../../training/remote');

const runSpec = (bucket: string | undefined): RunSpec => ({
  name: 'chart run "q3"; $(touch p2s-marker)', task: 'chartqa', backend: 'tpu',
  dataset: { format: 'chartqa', path: '/data/chartqa', location: 'remote' }, baseModel: 'google/pix2struct-large',
  steps: 100, batchSize: 32, gradAccum: 1, learningRate: 0.01, optimizer: 'adafactor', warmupSteps: 10, maxPatches: 4096,
  maxTargetLength: 128, evalEvery: 25, saveEvery: 25, bf16: 'auto', seed: 0,
  ...(bucket ? { tpu: { bucket, ginSize: 'large' as const } } : {}),
});

describe('submitTpuRun (fake cloud API, real sshd)', { skip }, () => {
  let sshd: TestSshd;
  let fake: FakeGcloud;
  const target: TpuVmTarget = { kind: 'tpu-vm', name: 'p2s-submit', zone: 'europe-west4-a', acceleratorType: 'v3-8', runtimeVersion: 'tpu-vm-base', keepAfterRun: true };

  before(async () => {
    sshd = await startSshd();
    fake = startFakeGcloud(sshd, { 'v3-8': 1 });
  });
  after(async () => {
    await sshd?.stop();
    fake?.dispose();
  });

  test('a spec without a bucket is refused before any cloud call', async () => {
    fake.clearCalls();
    await assert.rejects(submitTpuRun({ target, spec: runSpec(undefined), codeDir: CODE_DIR, gcloud: fake.gcloud }), LauncherInputError);
    assert.deepEqual(fake.calls(), []);
  });

  test('returns the record while the phases go on; the VM gets the bucket and size; the Launcher follows it to the end', async () => {
    const { record, done } = await submitTpuRun({ target, spec: runSpec('gs://team-bucket/pix2struct'), codeDir: CODE_DIR, gcloud: fake.gcloud, dryRun: true, pollMs: 1 });
    assert.match(record.id, RUN_ID_PATTERN);
    const onVm = path.join(fake.workerHome(target.name, 0), record.remoteDir);
    const wire = JSON.parse(fs.readFileSync(path.join(onVm, 'spec.json'), 'utf8'));
    assert.equal(wire.name, runSpec(undefined).name, 'the name arrived as data');
    assert.equal(wire.tpu.bucket, 'gs://team-bucket/pix2struct');
    assert.equal(wire.tpu.gin_size, 'large');
    assert.equal(wire.tpu.name, target.name);

    const result = await done;
    assert.equal(result.deleted, false, 'keepAfterRun keeps the VM');
    registerTpuVmTransport(fake.gcloud);
    const launcher = new Launcher({ codeDir: CODE_DIR });
    try {
      let log = '';
      const final = await launcher.tail(record, { onLog: (t) => (log += t) });
      assert.equal(final.state, 'succeeded');
      assert.match(log, /t5x\.train/);
      assert.match(log, /sizes\/large\.gin/, 'the Large gin size reached t5x');
    } finally {
      await launcher.dispose();
    }
    assert.equal(fs.existsSync(path.join(os.homedir(), 'p2s-marker')), false);
  });
});
