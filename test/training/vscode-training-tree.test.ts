// The Training Runs tree as data, and the run store that survives a window reload.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunRecord, RunStatus } from '../../training/launcher/types';
import { RunStore, STORE_KEY, type StateMemento } from '../../src/training/run-store';
import { formatStarted, groupRuns, type RunView } from '../../src/training/run-tree-model';

const record = (id: string, host: string, createdAt: string, name = id): RunRecord => ({
  id, name, task: 'screen2words', target: { kind: 'ssh', host }, remoteDir: `.pix2struct/runs/${id}`, createdAt,
});
const status = (s: Partial<RunStatus> & Pick<RunStatus, 'state'>): RunStatus => ({ updatedAt: '2026-11-24T21:00:00Z', checkpoints: [], ...s });
const hm = (iso: string) => iso.slice(11, 16);

describe('groupRuns', () => {
  const views: RunView[] = [
    { record: record('20261124-100000-aaaaaa', 'zeta-gpu', '2026-11-24T10:00:00Z'), status: status({ state: 'succeeded', step: 200, totalSteps: 200, finalCheckpoint: 'checkpoints/final' }), connection: 'ended' },
    { record: record('20261124-120000-bbbbbb', 'alpha-gpu', '2026-11-24T12:00:00Z'), status: status({ state: 'running', step: 40, totalSteps: 200, checkpoints: ['checkpoints/step-20'] }), connection: 'live' },
    { record: record('20261124-130000-cccccc', 'zeta-gpu', '2026-11-24T13:00:00Z'), connection: 'idle' },
    {
      record: { ...record('20261124-140000-dddddd', 'x', '2026-11-24T14:00:00Z'), target: { kind: 'tpu-vm', name: 'my-tpu', zone: 'us-central2-b', acceleratorType: 'v4-8', runtimeVersion: 'r', keepAfterRun: false } },
      status: status({ state: 'failed', message: 'out of memory' }), connection: 'error', error: 'Cannot reach my-tpu',
    },
  ];
  const groups = groupRuns(views, hm);

  test('one group per host, sorted by name; newest run first inside a host', () => {
    assert.deepEqual(groups.map((g) => g.label), ['alpha-gpu', 'TPU VM my-tpu (us-central2-b)', 'zeta-gpu']);
    assert.deepEqual(groups[2]!.runs.map((r) => r.id), ['20261124-130000-cccccc', '20261124-100000-aaaaaa']);
  });

  test('a run shows step/total, state and start time, and an icon for its state', () => {
    const running = groups[0]!.runs[0]!;
    assert.equal(running.description, '40/200 · running · started 12:00');
    assert.equal(running.icon, 'sync~spin');
    const done = groups[2]!.runs[1]!;
    assert.equal(done.description, '200/200 · succeeded · started 10:00');
    assert.equal(done.icon, 'pass');
  });

  test('menus see what is possible: Stop on live runs, Use This Checkpoint where one exists', () => {
    const flags = (id: string) => groups.flatMap((g) => g.runs).find((r) => r.id === id)!.contextValue.split(' ');
    assert.ok(flags('20261124-120000-bbbbbb').includes('live'));
    assert.ok(flags('20261124-120000-bbbbbb').includes('checkpoint'), 'a running run with a saved step');
    assert.ok(!flags('20261124-100000-aaaaaa').includes('live'));
    assert.ok(flags('20261124-100000-aaaaaa').includes('checkpoint'));
    assert.ok(flags('20261124-130000-cccccc').includes('live'), 'unknown state: Stop stays possible');
    assert.ok(!flags('20261124-140000-dddddd').includes('checkpoint'));
  });

  test('a connection problem shows in the icon, description and tooltip', () => {
    const lost = groups[1]!.runs[0]!;
    assert.equal(lost.icon, 'debug-disconnect');
    assert.match(lost.description, /not connected/);
    assert.match(lost.tooltip, /Connection: Cannot reach my-tpu/);
    assert.match(lost.tooltip, /out of memory/);
  });

  test('formatStarted: time today, date and time otherwise', () => {
    const now = new Date(2026, 10, 24, 22, 0);
    assert.equal(formatStarted(new Date(2026, 10, 24, 9, 5).toISOString(), now), '09:05');
    assert.equal(formatStarted(new Date(2026, 10, 20, 18, 30).toISOString(), now), 'Nov 20 18:30');
    assert.equal(formatStarted('not a date', now), 'not a date');
  });
});

/** globalState as VS Code keeps it: JSON-cloned values under keys. */
class MemoryMemento implements StateMemento {
  readonly data = new Map<string, string>();
  get<T>(key: string): T | undefined {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, JSON.stringify(value));
  }
}

describe('RunStore', () => {
  test('records and their last status survive a reload (a new store over the same state)', async () => {
    const memento = new MemoryMemento();
    const store = new RunStore(memento);
    const a = record('20261124-100000-aaaaaa', 'gpu-box', '2026-11-24T10:00:00Z', "odd name; $(x)");
    await store.add(a);
    await store.setStatus(a.id, status({ state: 'running', step: 5, totalSteps: 10 }));
    const reloaded = new RunStore(memento);
    assert.deepEqual(reloaded.records(), [a]);
    assert.equal(reloaded.get(a.id)!.status!.step, 5);
    await reloaded.remove(a.id);
    assert.deepEqual(new RunStore(memento).records(), []);
  });

  test('malformed stored entries are dropped, not trusted', () => {
    const memento = new MemoryMemento();
    const good = record('20261124-100000-aaaaaa', 'gpu-box', '2026-11-24T10:00:00Z');
    void memento.update(STORE_KEY, {
      version: 1,
      runs: [
        { record: good, status: { state: 'exploded', updatedAt: 'x', checkpoints: [] } },
        { record: { ...good, id: '../../etc' } },
        { record: { ...good, id: '20261124-100000-bbbbbb', target: { kind: 'ssh', host: '-oProxyCommand=x' } } },
        { record: { ...good, id: '20261124-100000-cccccc', task: 'chess' } },
        'junk',
      ],
    });
    const store = new RunStore(memento);
    assert.deepEqual(store.records().map((r) => r.id), [good.id]);
    assert.equal(store.get(good.id)!.status, undefined, 'an unknown state is not shown');
  });

  test('status writes happen only when what the tree shows changes', async () => {
    const memento = new MemoryMemento();
    let writes = 0;
    const counting: StateMemento = { get: (k) => memento.get(k), update: (k, v) => (writes++, memento.update(k, v)) };
    const store = new RunStore(counting);
    const a = record('20261124-100000-aaaaaa', 'gpu-box', '2026-11-24T10:00:00Z');
    await store.add(a);
    await store.setStatus(a.id, status({ state: 'running', step: 1, message: 'step 1' }));
    await store.setStatus(a.id, status({ state: 'running', step: 1, message: 'heartbeat' }));
    await store.setStatus(a.id, status({ state: 'running', step: 2 }));
    assert.equal(writes, 3);
  });
});
