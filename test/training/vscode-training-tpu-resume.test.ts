// The extension's launcher adapter picks a Cloud TPU run's workflow up again after a window reload
// (resumeTpuWorkflow): nothing already done is started twice, and the VM is deleted at the end.
// fake-gcloud stands in for the cloud API only; ssh/scp reach a real sshd and real control.py.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startSshd, sshdAvailable, type TestSshd } from '../helpers/sshd';
import { startFakeGcloud, type FakeGcloud } from '../helpers/fake-gcloud';
import { runOnTpuVm, tpuOptionsToWire } from '../../training/launcher/tpu-run';
import type { TpuVmTarget } from '../../training/launcher/tpu-lifecycle';
import { createLauncher } from '../../src/training/launcher-adapter';

const skip = sshdAvailable() ? false : 'needs /usr/sbin/sshd, ssh and scp';
const CODE_DIR = path.resolve(__dirname, '../../training/remote');

describe('resuming a TPU workflow from the extension (fake cloud API, real sshd)', { skip }, () => {
  let sshd: TestSshd;
  let fake: FakeGcloud;
  before(async () => {
    sshd = await startSshd();
    fake = startFakeGcloud(sshd, { 'v3-8': 1 });
  });
  after(async () => {
    await sshd?.stop();
    fake?.dispose();
  });

  test('a run whose window closed before the VM was deleted gets deleted, without any phase started again', async () => {
    const kept: TpuVmTarget = { kind: 'tpu-vm', name: 'p2s-resume', zone: 'europe-west4-a', acceleratorType: 'v3-8', runtimeVersion: 'tpu-vm-base', keepAfterRun: true };
    const runId = '20261124-230000-abcdef';
    const spec = {
      name: 'resume me', task: 'screen2words', backend: 'tpu', dataset: { format: 'screen2words', path: 'gs://team-bucket/data/screen2words' }, base_model: 'google/pix2struct-base',
      python: null, steps: 10, batch_size: 8, grad_accum: 1, learning_rate: 0.01, optimizer: 'adafactor', warmup_steps: 0, max_patches: 2048,
      max_target_length: 128, eval_every: 0, save_every: 0, bf16: 'auto', num_processes: null, seed: 0, tpu: tpuOptionsToWire({ bucket: 'gs://team-bucket', ginSize: 'base' }),
    };
    // The first window ran every phase, then went away before deleting (here: the VM was kept).
    await runOnTpuVm({ target: kept, runId, spec, codeDir: CODE_DIR, gcloud: fake.gcloud, dryRun: true, pollMs: 1 });
    assert.ok(fake.state().nodes[`${kept.zone}/${kept.name}`], 'the VM still exists');

    fake.clearCalls();
    const lines: string[] = [];
    const launcher = createLauncher({ codeDir: CODE_DIR, gcloud: fake.gcloud, log: (l) => lines.push(l) });
    try {
      const record = { id: runId, name: 'resume me', task: 'screen2words' as const, target: { ...kept, keepAfterRun: false }, remoteDir: `.pix2struct/runs/${runId}`, createdAt: new Date().toISOString() };
      launcher.resumeTpuWorkflow!(record);
      launcher.resumeTpuWorkflow!(record); // a second reattach while the first drives is a no-op
      const deadline = Date.now() + 60_000;
      while (!lines.some((l) => /TPU workflow (ended|stopped)/.test(l))) {
        assert.ok(Date.now() < deadline, `no end of the workflow in ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(lines.filter((l) => /workflow/.test(l)), ['resume me: TPU workflow ended (VM deleted)']);
      const kinds = fake.calls().map((argv) => argv[3]);
      assert.equal(kinds.filter((k) => k === 'delete').length, 1, 'deleted once');
      assert.equal(kinds.includes('create'), false);
      assert.equal(fake.calls().some((argv) => argv.some((w) => / start (install|preprocess|train|convert) /.test(w))), false, 'no phase started again');
      assert.equal(fake.state().nodes[`${kept.zone}/${kept.name}`], undefined, 'the VM is gone');
    } finally {
      await launcher.dispose();
    }
  });
});
