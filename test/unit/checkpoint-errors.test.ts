import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { loadCheckpoint } from '../../model-runtime/src/checkpoint/checkpoint';
import { readSafetensorsHeader, readTensorBytes } from '../../model-runtime/src/checkpoint/safetensors';
import { CheckpointError, ConfigError } from '../../model-runtime/src/errors';
import { MODEL_DIR, tempDir } from '../helpers/fixture';
import { writeSafetensors, type RawTensor } from '../helpers/safetensors-writer';

const CONFIG_FILES = ['config.json', 'generation_config.json', 'preprocessor_config.json'];
const QUERY = 'encoder.encoder.layer.0.attention.query.weight';

function fixtureTensors(): Map<string, RawTensor> {
  const header = readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors'));
  return new Map([...header.tensors].map(([name, e]) => [name, { dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) }]));
}

/** A checkpoint folder with the fixture's configs and the given weights file contents. */
function brokenCopy(write: (weightsFile: string) => void): string {
  const dir = tempDir('broken');
  for (const f of CONFIG_FILES) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  write(path.join(dir, 'model.safetensors'));
  return dir;
}

function expectCheckpointError(dir: string, pattern: RegExp, tensor?: string): void {
  assert.throws(
    () => loadCheckpoint(dir),
    (err: unknown) => {
      assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${err}`);
      assert.match(err.message, pattern);
      assert.match(err.message, /model\.safetensors/, 'the message names the file');
      if (tensor) assert.equal(err.tensor, tensor);
      return true;
    },
  );
}

describe('broken checkpoints are refused with an error naming the file and tensor', () => {
  test('the fixture itself loads and every tensor is accounted for', () => {
    const ckpt = loadCheckpoint(MODEL_DIR);
    assert.equal(ckpt.weights.size, readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors')).tensors.size);
  });

  test('truncated file', () => {
    const dir = brokenCopy((file) => {
      const bytes = fs.readFileSync(path.join(MODEL_DIR, 'model.safetensors'));
      fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    });
    expectCheckpointError(dir, /past the end of the data .*truncated/);
  });

  test('file cut inside the header', () => {
    const dir = brokenCopy((file) => fs.writeFileSync(file, fs.readFileSync(path.join(MODEL_DIR, 'model.safetensors')).subarray(0, 100)));
    expectCheckpointError(dir, /header length \d+ does not fit/);
  });

  test('offsets past the end of the file', () => {
    const tensors = fixtureTensors();
    const dataBytes = [...tensors.values()].reduce((n, t) => n + t.data.byteLength, 0);
    const length = tensors.get(QUERY)!.data.byteLength;
    const dir = brokenCopy((file) => writeSafetensors(file, tensors, { [QUERY]: { data_offsets: [dataBytes - length + 4, dataBytes + 4] } }));
    expectCheckpointError(dir, /point past the end/, QUERY);
  });

  test('a missing tensor', () => {
    const tensors = fixtureTensors();
    tensors.delete(QUERY);
    const dir = brokenCopy((file) => writeSafetensors(file, tensors));
    expectCheckpointError(dir, /missing from the checkpoint/, QUERY);
  });

  test('a tensor whose shape disagrees with config.json', () => {
    const tensors = fixtureTensors();
    const q = tensors.get(QUERY)!;
    tensors.set(QUERY, { ...q, shape: [q.shape[0]! / 2, q.shape[1]! * 2] });
    const dir = brokenCopy((file) => writeSafetensors(file, tensors));
    expectCheckpointError(dir, /has shape \[32, 128\] but config\.json implies \[64, 64\]/, QUERY);
  });

  test('a tensor whose byte count disagrees with its own shape', () => {
    const tensors = fixtureTensors();
    const q = tensors.get(QUERY)!;
    const dir = brokenCopy((file) => writeSafetensors(file, tensors, { [QUERY]: { shape: [q.shape[0]!, q.shape[1]! + 1] } }));
    expectCheckpointError(dir, /holds \d+ bytes but F32/, QUERY);
  });

  test('an unsupported dtype', () => {
    const tensors = fixtureTensors();
    const dir = brokenCopy((file) => writeSafetensors(file, tensors, { [QUERY]: { dtype: 'I8' } }));
    expectCheckpointError(dir, /dtype "I8" is not supported/, QUERY);
  });

  test('a header that is not JSON', () => {
    const dir = brokenCopy((file) => {
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(16n);
      fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from('{"not json": ???'), Buffer.alloc(64)]));
    });
    expectCheckpointError(dir, /not valid JSON/);
  });

  test('only pytorch_model.bin present, and it is garbage', () => {
    const dir = brokenCopy((file) => fs.writeFileSync(path.join(path.dirname(file), 'pytorch_model.bin'), 'x'));
    fs.rmSync(path.join(dir, 'model.safetensors'), { force: true });
    assert.throws(
      () => loadCheckpoint(dir),
      (err: unknown) => err instanceof CheckpointError && err.file === path.join(dir, 'pytorch_model.bin') && /pytorch_model\.bin: not a zip archive/.test(err.message),
    );
  });

  test('config.json missing or wrong', () => {
    const missing = brokenCopy((file) => fs.copyFileSync(path.join(MODEL_DIR, 'model.safetensors'), file));
    fs.rmSync(path.join(missing, 'config.json'));
    assert.throws(() => loadCheckpoint(missing), (e: unknown) => e instanceof ConfigError && /config\.json: file not found/.test(e.message));

    const wrong = brokenCopy((file) => fs.copyFileSync(path.join(MODEL_DIR, 'model.safetensors'), file));
    const config = JSON.parse(fs.readFileSync(path.join(wrong, 'config.json'), 'utf8'));
    config.text_config.num_heads = 'four';
    fs.writeFileSync(path.join(wrong, 'config.json'), JSON.stringify(config));
    assert.throws(() => loadCheckpoint(wrong), /"num_heads" must be a positive integer, got "four"/);

    const other = brokenCopy((file) => fs.copyFileSync(path.join(MODEL_DIR, 'model.safetensors'), file));
    fs.writeFileSync(path.join(other, 'config.json'), JSON.stringify({ ...config, model_type: 't5' }));
    assert.throws(() => loadCheckpoint(other), /"model_type" is "t5", expected "pix2struct"/);
  });

  test('a config that implies more layers than the weights hold names the first missing tensor', () => {
    const dir = brokenCopy((file) => fs.copyFileSync(path.join(MODEL_DIR, 'model.safetensors'), file));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.vision_config.num_hidden_layers = 3;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expectCheckpointError(dir, /missing from the checkpoint/, 'encoder.encoder.layer.2.pre_attention_layer_norm.weight');
  });
});
