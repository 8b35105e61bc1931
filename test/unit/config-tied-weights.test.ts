import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadCheckpoint } from '../../model-runtime/src/checkpoint/checkpoint';
import { readSafetensorsHeader, readTensorBytes } from '../../model-runtime/src/checkpoint/safetensors';
import { CheckpointError } from '../../model-runtime/src/errors';
import { MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { writeSafetensors, type RawTensor } from '../helpers/safetensors-writer';

const LM_HEAD = 'decoder.lm_head.weight';
const EMBED = 'decoder.embed_tokens.weight';
const temp = trackedTempDirs();
after(() => temp.removeAll());

const header = readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors'));
const fixtureTensors = () => new Map<string, RawTensor>([...header.tensors].map(([name, e]) => [name, { dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) }]));

/** A folder with the fixture's config (edited) and the given tensors in one safetensors file. */
function folder(tensors: Map<string, RawTensor>, editConfig: (c: Record<string, any>) => void = () => {}): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const dir = temp.tempDir('tied');
  const config = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'config.json'), 'utf8'));
  editConfig(config);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

const tied = (c: Record<string, unknown>) => (c.tie_word_embeddings = true);

function refused(dir: string, tensor: string, pattern: RegExp): void {
  assert.throws(
    () => loadCheckpoint(dir),
    (e: unknown) => {
      assert.ok(e instanceof CheckpointError, String(e));
      assert.equal(e.tensor, tensor);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('which tensors a checkpoint may carry', () => {
  test('tied embeddings without an lm_head (save_pretrained drops the tied copy) use embed_tokens', () => {
    const tensors = fixtureTensors();
    tensors.delete(LM_HEAD);
    const ckpt = loadCheckpoint(folder(tensors, tied));
    assert.equal(ckpt.weights.get(LM_HEAD)!.name, EMBED);
  });

  test('tied embeddings with the lm_head duplicate that torch.save keeps: accepted, and embed_tokens is used as transformers does', () => {
    const tensors = fixtureTensors();
    const ckpt = loadCheckpoint(folder(tensors, tied));
    assert.equal(ckpt.weights.get(LM_HEAD)!.name, EMBED);
  });

  test('a tied lm_head of another shape is refused', () => {
    const tensors = fixtureTensors();
    tensors.set(LM_HEAD, { dtype: 'F32', shape: [10, 64], data: new Uint8Array(10 * 64 * 4) });
    refused(folder(tensors, tied), LM_HEAD, /has shape \[10, 64\] but config\.json implies \[50244, 64\]/);
  });

  test('untied embeddings need their lm_head', () => {
    const tensors = fixtureTensors();
    tensors.delete(LM_HEAD);
    refused(folder(tensors), LM_HEAD, /missing from the checkpoint/);
  });

  test('any other extra tensor is refused, naming it and how many more there are', () => {
    const tensors = fixtureTensors();
    for (const name of ['shared.weight', 'encoder.pooler.dense.weight', 'encoder.pooler.dense.bias']) tensors.set(name, { dtype: 'F32', shape: [2], data: new Uint8Array(8) });
    const dir = folder(tensors);
    refused(dir, 'shared.weight', /model\.safetensors \(tensor "shared\.weight"\): is not used by the model config\.json describes and 2 more \("encoder\.pooler\.dense\.weight", "encoder\.pooler\.dense\.bias"\): weights of another architecture/);
  });

  test('a config with fewer encoder layers than the weights says so', () => {
    const dir = folder(fixtureTensors(), (c) => (c.vision_config.num_hidden_layers = 1));
    assert.throws(() => loadCheckpoint(dir), /the weights have encoder layer 1 but vision_config "num_hidden_layers" is 1/);
  });

  test('a tensor stored in two shards is refused', () => {
    const dir = temp.tempDir('shards');
    fs.copyFileSync(path.join(MODEL_DIR, 'config.json'), path.join(dir, 'config.json'));
    const tensors = fixtureTensors();
    const names = [...tensors.keys()];
    const half = Math.floor(names.length / 2);
    const shard = (list: string[]) => new Map(list.map((n) => [n, tensors.get(n)!]));
    writeSafetensors(path.join(dir, 'a.safetensors'), shard(names.slice(0, half + 1)));
    writeSafetensors(path.join(dir, 'b.safetensors'), shard(names.slice(half)));
    const map = Object.fromEntries(names.map((n, i) => [n, i < half ? 'a.safetensors' : 'b.safetensors']));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
    refused(dir, names[half]!, /b\.safetensors \(tensor "[^"]+"\): also stored in a\.safetensors/);
  });
});
