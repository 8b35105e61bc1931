import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { AbortError, SessionInputError } from '../../model-runtime/src/errors';
import { Pix2StructModel, type ImageEncoding } from '../../model-runtime/src/model';
import { floatTensor, int64Tensor, ModelSession } from '../../model-runtime/src/runtime/ort-session';
import { MODEL_DIR, modelRef, referenceInputs, tempDir } from '../helpers/fixture';

describe('streaming and cancellation', () => {
  let model: Pix2StructModel;
  let encoding: ImageEncoding;
  const ref = modelRef('photo');
  const cacheDir = tempDir('graphs');

  before(async () => {
    model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir });
    encoding = await model.encode(referenceInputs('photo'));
  });
  after(async () => {
    await model?.release();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  test('each greedy token is streamed as soon as it is chosen, in order', async () => {
    const streamed: number[] = [];
    const result = await model.generate(encoding, {
      maxNewTokens: ref.greedy_ids.length - 1,
      onToken: (e) => {
        assert.equal(e.step, streamed.length);
        streamed.push(e.tokenId);
      },
    });
    assert.deepEqual(streamed, ref.greedy_ids.slice(1));
    assert.deepEqual(result.tokenIds.slice(1), streamed);
  });

  test('aborting stops generation before the next decoding step', async () => {
    const controller = new AbortController();
    const streamed: number[] = [];
    const stopAfter = 3;
    await assert.rejects(
      model.generate(encoding, {
        maxNewTokens: 20,
        signal: controller.signal,
        onToken: (e) => {
          streamed.push(e.tokenId);
          if (streamed.length === stopAfter) controller.abort();
        },
      }),
      (err: unknown) => err instanceof AbortError,
    );
    assert.equal(streamed.length, stopAfter);
  });

  test('beam search honours an abort too', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user pressed Stop'));
    await assert.rejects(model.generate(encoding, { numBeams: 3, signal: controller.signal }), /user pressed Stop/);
  });

  test('the graph cache is reused: a second load builds nothing', async () => {
    const entries = fs.readdirSync(cacheDir);
    assert.equal(entries.length, 1, 'one folder per checkpoint content');
    const onnx = `${cacheDir}/${entries[0]}/decoder.onnx`;
    const before = fs.statSync(onnx).mtimeMs;
    const again = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir });
    await again.release();
    assert.equal(fs.statSync(onnx).mtimeMs, before);
    assert.deepEqual(fs.readdirSync(cacheDir), entries);
  });

  test('graphs keep weights outside the protobuf: each .onnx is tiny next to its weights', () => {
    const dir = `${cacheDir}/${fs.readdirSync(cacheDir)[0]}`;
    const weights = fs.statSync(`${MODEL_DIR}/model.safetensors`).size;
    for (const graph of ['encoder.onnx', 'cross_kv.onnx', 'decoder.onnx']) {
      assert.ok(fs.statSync(`${dir}/${graph}`).size < weights / 100, `${graph} holds no weight data`);
    }
    // float32 weights are the checkpoint's own bytes, linked rather than copied.
    assert.equal(fs.statSync(`${dir}/shard-0.safetensors`).ino, fs.statSync(fs.realpathSync(`${MODEL_DIR}/model.safetensors`)).ino);
  });

  test('a session names the offending input, its dtype and dims, and lists what it expects', async () => {
    const dir = `${cacheDir}/${fs.readdirSync(cacheDir)[0]}`;
    const session = await ModelSession.open(`${dir}/encoder.onnx`, 'encoder');
    try {
      await assert.rejects(
        session.run({ flattened_patches: floatTensor(new Float32Array(10 * 769), [1, 10, 769]), attention_mask: int64Tensor([1, 1], [1, 2]) }),
        (err: unknown) => {
          assert.ok(err instanceof SessionInputError);
          assert.match(err.message, /"flattened_patches" dim 2 must be 770, got float32\[1, 10, 769\]/);
          assert.match(err.message, /unknown input "attention_mask"/);
          assert.match(err.message, /inputs: flattened_patches: float32\[batch, patches, 770\]\)/);
          return true;
        },
      );
      await assert.rejects(session.run({ flattened_patches: int64Tensor(new Array(770).fill(0), [1, 1, 770]) }), /"flattened_patches" must be float32, got int64\[1, 1, 770\]/);
      await assert.rejects(session.run({}), /missing input "flattened_patches"/);
    } finally {
      await session.release();
    }
  });
});
