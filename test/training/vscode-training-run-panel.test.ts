// The run panel's message contract (both directions) and how metric lines become plot columns.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MetricPoint } from '../../training/launcher/types';
import { parseFromRunPanel, parseToRunPanel } from '../../src/protocol/run-panel';
import { panelStatus } from '../../src/training/run-panel-status';
import { RUN_STATES, TERMINAL_STATES } from '../../training/launcher/run-states';
import { alignMetrics, isEvalMetric, isLoss } from '../../webview/training/plot-data';

describe('messages from the run panel', () => {
  test('requests carry an id and a known action; anything else is dropped', () => {
    assert.deepEqual(parseFromRunPanel({ type: 'request', requestId: 3, action: 'stop' }), { type: 'request', requestId: 3, action: 'stop' });
    assert.deepEqual(parseFromRunPanel({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseFromRunPanel({ type: 'rendered', points: 12, state: 'running' }), { type: 'rendered', points: 12, state: 'running' });
    for (const bad of [
      null, 'stop', [], { type: 'request', requestId: 3, action: 'rm -rf' }, { type: 'request', requestId: 1.5, action: 'stop' },
      { type: 'request', action: 'stop' }, { type: 'rendered', points: -1, state: null }, { type: 'rendered', points: 1, state: 'x'.repeat(100) },
      { type: 'eval', code: '1' },
    ]) {
      assert.equal(parseFromRunPanel(bad), null, JSON.stringify(bad));
    }
  });
});

describe('messages to the run panel', () => {
  const point: MetricPoint = { step: 1, time: '2026-11-24T21:00:00Z', split: 'train', values: { loss: 3 } };
  test('well-formed messages pass, including both reply shapes', () => {
    const init = {
      type: 'init', run: { id: 'r', name: 'n', task: 'docvqa', host: 'h', createdAt: 'c' }, status: null, connection: 'live', error: null, metrics: [point], log: 'x\n',
    };
    assert.deepEqual(parseToRunPanel(init), init);
    assert.deepEqual(parseToRunPanel({ type: 'reply', requestId: 1, ok: false, error: 'host down' }), { type: 'reply', requestId: 1, ok: false, error: 'host down' });
    assert.deepEqual(parseToRunPanel({ type: 'reply', requestId: 2, ok: true, message: null }), { type: 'reply', requestId: 2, ok: true, message: null });
  });
  test('the host says whether a state is final, so the panel keeps no list of states', () => {
    for (const state of RUN_STATES) {
      const status = panelStatus({ state, updatedAt: 't', checkpoints: [] } as never)!;
      assert.equal(status.terminal, (TERMINAL_STATES as readonly string[]).includes(state), state);
      assert.deepEqual(parseToRunPanel({ type: 'status', status, connection: 'live', error: null }), { type: 'status', status, connection: 'live', error: null });
    }
    assert.equal(parseToRunPanel({ type: 'status', status: { state: 'running', updatedAt: 't', checkpoints: [] }, connection: 'live', error: null }), null, 'a status without the flag');
  });
  test('a metric with a non-number value or an unknown connection is refused', () => {
    assert.equal(parseToRunPanel({ type: 'metrics', points: [{ ...point, values: { loss: 'NaN' } }] }), null);
    assert.equal(parseToRunPanel({ type: 'status', status: null, connection: 'teleporting', error: null }), null);
    assert.equal(parseToRunPanel({ type: 'reply', requestId: 1, ok: false }), null);
  });
});

describe('alignMetrics', () => {
  const p = (step: number, split: 'train' | 'eval', values: Record<string, number>): MetricPoint => ({ step, time: '', split, values });
  const points = [
    p(1, 'train', { loss: 3, learning_rate: 0.01 }),
    p(2, 'train', { loss: 2 }),
    p(2, 'eval', { loss: 2.5, anls: 0.4 }),
    p(3, 'train', { loss: 1.5 }),
    p(2, 'train', { loss: 1.9 }), // a resumed run logging step 2 again
  ];

  test('loss of both splits on the union of steps, gaps as null, later duplicates win', () => {
    const a = alignMetrics(points, isLoss);
    assert.deepEqual(a.series, [{ split: 'train', name: 'loss' }, { split: 'eval', name: 'loss' }]);
    assert.deepEqual(a.columns, [[1, 2, 3], [3, 1.9, 1.5], [null, 2.5, null]]);
  });

  test('eval metrics leave out loss and learning rate', () => {
    const a = alignMetrics(points, isEvalMetric);
    assert.deepEqual(a.series, [{ split: 'eval', name: 'anls' }]);
    assert.deepEqual(a.columns, [[2], [0.4]]);
  });
});
