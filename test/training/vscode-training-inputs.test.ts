// The Fine-tune wizard's validators and the spec it builds (pure, no VS Code).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { specToWire } from '../../training/launcher/wire';
import {
  BATCH_SIZE, LEARNING_RATE, MAX_PATCHES, STEPS, acceleratorTypeError, baseModelError, buildRunSpec, numberError, parseNumber,
  remotePathError, runNameError, sshHostError, tpuNameError, zoneError,
} from '../../src/training/fine-tune-inputs';

describe('number inputs', () => {
  test('accept the forms people type', () => {
    assert.deepEqual(parseNumber(' 2048 ', MAX_PATCHES), { value: 2048 });
    assert.deepEqual(parseNumber('1_000', STEPS), { value: 1000 });
    assert.deepEqual(parseNumber('1e-4', LEARNING_RATE), { value: 1e-4 });
    assert.deepEqual(parseNumber('.01', LEARNING_RATE), { value: 0.01 });
  });

  test('refuse what the trainer cannot use, saying why', () => {
    assert.match(numberError(STEPS)('')!, /required/);
    assert.match(numberError(STEPS)('ten')!, /must be a number/);
    assert.match(numberError(BATCH_SIZE)('1.5')!, /whole number/);
    assert.match(numberError(STEPS)('0')!, /between 1 and/);
    assert.match(numberError(LEARNING_RATE)('2')!, /between/);
    assert.match(numberError(MAX_PATCHES)('16')!, /between 64 and/);
    assert.match(numberError(STEPS)('-5')!, /must be a number/);
    assert.match(numberError(STEPS)('0x10')!, /must be a number/);
    assert.equal(numberError(BATCH_SIZE)('8'), undefined);
  });
});

describe('host and path inputs', () => {
  test('an SSH host cannot smuggle an ssh option or shell syntax', () => {
    for (const bad of ['-oProxyCommand=touch /tmp/x', 'gpu box', 'gpu;rm -rf ~', 'a@b@c', '$(id)', '']) assert.ok(sshHostError(bad), bad);
    for (const good of ['gpu-box', 'me@10.0.0.2', 'trainer.example.org', 'p2s-test']) assert.equal(sshHostError(good), undefined, good);
  });

  test('TPU VM name, zone and accelerator type follow Google Cloud forms', () => {
    assert.equal(tpuNameError('pix2struct-tpu'), undefined);
    assert.ok(tpuNameError('Pix2Struct'));
    assert.ok(tpuNameError('1tpu'));
    assert.equal(zoneError('us-central2-b'), undefined);
    assert.equal(zoneError('europe-west4-a'), undefined);
    assert.ok(zoneError('us-central2'));
    for (const t of ['v2-8', 'v3-32', 'v4-8', 'v5litepod-8', 'v5p-8']) assert.equal(acceleratorTypeError(t), undefined, t);
    assert.ok(acceleratorTypeError('a100'));
  });

  test('a dataset on the host is absolute or under ~/', () => {
    assert.equal(remotePathError('/data/screen2words'), undefined);
    assert.equal(remotePathError('~/datasets/docvqa'), undefined);
    assert.ok(remotePathError('datasets/docvqa'));
    assert.ok(remotePathError('/data/x\nrm'));
  });

  test('run names and base checkpoints', () => {
    assert.equal(runNameError("my run; $(echo it's fine)"), undefined, 'shell syntax is fine: names only travel in spec.json');
    assert.ok(runNameError('  '));
    assert.ok(runNameError('x'.repeat(101)));
    assert.equal(baseModelError('google/pix2struct-base'), undefined);
    assert.equal(baseModelError('/models/my-ckpt'), undefined);
    assert.ok(baseModelError('pix2struct-base'));
  });
});

describe('buildRunSpec', () => {
  const choices = {
    name: ' docvqa try ', task: 'docvqa' as const, backend: 'gpu' as const,
    dataset: { format: 'docvqa' as const, path: '/data/docvqa', location: 'remote' as const },
    baseModel: 'google/pix2struct-docvqa-base', steps: 200, batchSize: 8, learningRate: 0.01, maxPatches: 2048,
  };

  test('carries every answer and fills the rest with values the launcher accepts', () => {
    const spec = buildRunSpec(choices);
    assert.equal(spec.name, 'docvqa try');
    assert.equal(spec.steps, 200);
    assert.equal(spec.batchSize, 8);
    assert.equal(spec.learningRate, 0.01);
    assert.equal(spec.maxPatches, 2048);
    assert.equal(spec.python, undefined, 'no interpreter: the host gets a venv');
    assert.ok(spec.evalEvery >= 1 && spec.evalEvery <= spec.steps);
    assert.ok(spec.warmupSteps < spec.steps);
    // The launcher's own JSON boundary takes it, with PROTOCOL.md's snake_case keys.
    const wire = specToWire(spec, spec.dataset.path, { kind: 'ssh', host: 'gpu-box' }) as Record<string, unknown>;
    for (const key of ['name', 'task', 'backend', 'dataset', 'base_model', 'python', 'steps', 'batch_size', 'grad_accum', 'learning_rate', 'optimizer', 'warmup_steps', 'max_patches', 'max_target_length', 'eval_every', 'save_every', 'bf16', 'seed']) {
      assert.ok(key in wire, `spec.json lacks ${key}`);
    }
  });

  test('passes an interpreter on the host through', () => {
    assert.equal(buildRunSpec({ ...choices, python: '/opt/conda/bin/python' }).python, '/opt/conda/bin/python');
  });
});

describe('Cloud TPU choices', () => {
  test('the bucket must be a gs:// location made of safe characters', async () => {
    const { bucketError } = await import('../../src/training/fine-tune-inputs');
    for (const ok of ['gs://my-bucket', 'gs://team.bucket_1/pix2struct/runs']) assert.equal(bucketError(ok), undefined, ok);
    for (const bad of ['my-bucket', 's3://bucket', 'gs://b', 'gs://bucket/a b', "gs://bucket/$(touch x)", 'gs://Bucket']) assert.ok(bucketError(bad), bad);
  });
  test('Large base checkpoints train with the large gin size, the rest with base; the spec carries it to the wire', async () => {
    const { buildRunSpec, ginSizeFor } = await import('../../src/training/fine-tune-inputs');
    assert.equal(ginSizeFor('google/pix2struct-large'), 'large');
    assert.equal(ginSizeFor('google/pix2struct-docvqa-base'), 'base');
    const spec = buildRunSpec({
      name: 'x', task: 'docvqa', dataset: { format: 'docvqa', path: '/d', location: 'remote' }, baseModel: 'google/pix2struct-large',
      backend: 'tpu', steps: 100, batchSize: 8, learningRate: 0.01, maxPatches: 4096, tpu: { bucket: 'gs://my-bucket', ginSize: 'large' },
    });
    const wire = specToWire(spec, '/d', { kind: 'tpu-vm', name: 'vm', zone: 'us-central2-b', acceleratorType: 'v4-8', runtimeVersion: 'tpu-vm-base', keepAfterRun: false }) as { tpu: Record<string, unknown> };
    assert.equal(wire.tpu.bucket, 'gs://my-bucket');
    assert.equal(wire.tpu.gin_size, 'large');
    assert.equal(wire.tpu.accelerator_type, 'v4-8');
  });
});
