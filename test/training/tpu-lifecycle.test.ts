// The TPU VM lifecycle against fake-gcloud's cloud API: create if missing, wait for READY, slice
// size from describe, delete; and validation before anything reaches gcloud.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGcloud, type FakeGcloud } from '../helpers/fake-gcloud';
import { checkTpuTarget, deleteTpuVm, describeTpuVm, ensureTpuVm, hostsForAcceleratorType, tpuCostWarning, TpuVmNotReadyError, type TpuVmTarget } from '../../training/launcher/tpu-lifecycle';
import { LauncherInputError } from '../../training/launcher/errors';

const vm = (over: Partial<TpuVmTarget> = {}): TpuVmTarget => ({
  kind: 'tpu-vm', name: 'p2s-life', zone: 'europe-west4-a', acceleratorType: 'v3-8', runtimeVersion: 'tpu-vm-base', keepAfterRun: false, ...over,
});

describe('TPU VM lifecycle (fake cloud API)', () => {
  let fake: FakeGcloud;
  before(() => {
    // "v9x-8" is a made-up type with 3 hosts: the API's answer must win over the name heuristic.
    fake = startFakeGcloud(null, { 'v3-8': 1, 'v9x-8': 3 });
  });
  after(() => fake.dispose());

  test('creates a missing VM once, polls until READY, reuses it the next time', async () => {
    fake.update({ describesUntilReady: 3 });
    fake.clearCalls();
    const progress: string[] = [];
    const info = await ensureTpuVm(fake.gcloud, vm(), { pollMs: 1, onProgress: (m) => progress.push(m) });
    assert.deepEqual([info.state, info.workers, info.created], ['READY', 1, true]);
    const kinds = fake.calls().map((c) => c[3]);
    assert.deepEqual(kinds, ['describe', 'create', 'describe', 'describe', 'describe', 'describe']);
    assert.ok(progress.some((m) => /Creating TPU VM p2s-life/.test(m)) && progress.some((m) => /CREATING/.test(m)));
    fake.clearCalls();
    const again = await ensureTpuVm(fake.gcloud, vm(), { pollMs: 1 });
    assert.equal(again.created, false);
    assert.deepEqual(fake.calls().map((c) => c[3]), ['describe']);
    await deleteTpuVm(fake.gcloud, vm());
    assert.equal(await describeTpuVm(fake.gcloud, vm()), null);
    await deleteTpuVm(fake.gcloud, vm()); // already gone: not an error
    fake.update({ describesUntilReady: 1 });
  });

  test('the number of hosts comes from describe (networkEndpoints)', async () => {
    const info = await ensureTpuVm(fake.gcloud, vm({ name: 'p2s-odd', acceleratorType: 'v9x-8' }), { pollMs: 1 });
    assert.equal(hostsForAcceleratorType('v9x-8'), 1);
    assert.equal(info.workers, 3);
    await deleteTpuVm(fake.gcloud, vm({ name: 'p2s-odd' }));
  });

  test('a VM that never gets READY ends in a clear error', async () => {
    fake.update({ describesUntilReady: 1_000 });
    try {
      await assert.rejects(ensureTpuVm(fake.gcloud, vm({ name: 'p2s-slow' }), { pollMs: 5, readyTimeoutMs: 50 }), (e: Error) => e instanceof TpuVmNotReadyError && /CREATING/.test(e.message) && /billing/.test(e.message));
    } finally {
      fake.update({ describesUntilReady: 1 });
      await deleteTpuVm(fake.gcloud, vm({ name: 'p2s-slow' }));
    }
  });

  test('user-typed names, zones and types are checked before gcloud sees them', async () => {
    fake.clearCalls();
    for (const bad of [
      vm({ name: '$(touch p2s-marker)' }), vm({ name: '--zone=us-east1-b' }), vm({ name: 'Has Space' }),
      vm({ zone: 'europe west4' }), vm({ project: 'p; rm -rf ~' }), vm({ acceleratorType: 'v3-8 --x' }), vm({ runtimeVersion: '$(id)' }),
    ]) {
      assert.throws(() => checkTpuTarget(bad), LauncherInputError, JSON.stringify(bad));
      await assert.rejects(ensureTpuVm(fake.gcloud, bad), LauncherInputError);
    }
    assert.deepEqual(fake.calls(), []);
  });

  test('slice sizes of public accelerator types (Cloud TPU docs: hosts per slice)', () => {
    // v2/v3/v4/v5p count TensorCores (8 per host); v5e and v6e count chips (up to 8 on one host).
    const docs: Record<string, number> = { 'v2-8': 1, 'v3-8': 1, 'v3-32': 4, 'v4-8': 1, 'v4-16': 2, 'v4-32': 4, 'v5p-8': 1, 'v5litepod-8': 1, 'v5litepod-16': 4, 'v6e-8': 1, 'v6e-16': 4 };
    for (const [type, hosts] of Object.entries(docs)) assert.equal(hostsForAcceleratorType(type), hosts, type);
  });

  test('the cost warning says whether the VM is deleted or kept, and how to delete it', () => {
    const deleted = tpuCostWarning(vm());
    assert.match(deleted, /billed by the hour/);
    assert.match(deleted, /deleted when the run ends/);
    const kept = tpuCostWarning(vm({ keepAfterRun: true, project: 'my-proj', acceleratorType: 'v4-32' }));
    assert.match(kept, /KEPT/);
    assert.match(kept, /4 hosts/);
    assert.match(kept, /gcloud compute tpus tpu-vm delete p2s-life --zone=europe-west4-a --project=my-proj/);
  });
});
