// The launcher's camelCase types against the snake_case examples in training/PROTOCOL.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { metricFromWire, specToWire, statusFromWire } from '../../training/launcher/wire';
import type { RunSpec } from '../../training/launcher/types';

const protocol = fs.readFileSync(path.resolve(__dirname, '../../training/PROTOCOL.md'), 'utf8');

/** The first JSON code block after a heading of PROTOCOL.md. */
function example(heading: string): Record<string, unknown> {
  const at = protocol.indexOf(heading);
  assert.ok(at >= 0, `PROTOCOL.md has ${heading}`);
  const block = /```json\n([\s\S]*?)```/.exec(protocol.slice(at));
  return JSON.parse(block![1]!);
}

test('spec.json written by the launcher has exactly the protocol fields', () => {
  const wire = example('## spec.json');
  const spec: RunSpec = {
    name: String(wire.name), task: 'screen2words', backend: 'gpu',
    dataset: { format: 'screen2words', path: '/home/me/screens', location: 'local' },
    baseModel: String(wire.base_model), steps: 200, batchSize: 8, gradAccum: 1, learningRate: 0.01, optimizer: 'adafactor',
    warmupSteps: 20, maxPatches: 2048, maxTargetLength: 128, evalEvery: 50, saveEvery: 50, bf16: 'auto', seed: 0,
  };
  const out = specToWire(spec, 'upload/dataset', { kind: 'ssh', host: 'gpu-box' });
  assert.deepEqual(out, wire);
});

test('status.json and metrics lines become the camelCase types', () => {
  const wire = example('## `status.json`');
  const s = statusFromWire(wire);
  assert.deepEqual(s, {
    state: wire.state, phase: wire.phase, message: wire.message, updatedAt: wire.updated_at, pgid: wire.pgid,
    exitCode: undefined, step: wire.step, totalSteps: wire.total_steps, checkpoints: wire.checkpoints, finalCheckpoint: undefined,
  });
  const line = JSON.parse(/One object per line: `(\{.*?\})`/.exec(protocol)![1]!);
  const m = metricFromWire(line);
  assert.deepEqual(m, { step: line.step, time: line.time, split: 'train', values: { loss: line.loss, learning_rate: line.learning_rate } });
  assert.throws(() => statusFromWire({ ...wire, state: 'exploded' }), /unknown state/);
});
