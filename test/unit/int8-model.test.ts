import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { argmax, topK } from '../../model-runtime/src/generation/logits';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { relativeError } from '../../model-runtime/src/runtime/precision';
import { IMAGES, MODEL_DIR, modelRef, readReference, referenceInputs, tempDir } from '../helpers/fixture';
import { writeSafetensors, type RawTensor } from '../helpers/safetensors-writer';
import { readSafetensorsHeader, readTensorBytes } from '../../model-runtime/src/checkpoint/safetensors';
import { CheckpointError } from '../../model-runtime/src/errors';

/**
 * int8 against the transformers reference and against our own fp32, on the tiny fixture.
 * Bounds are what was measured here with margin (encoder 2.1–2.7 %, logits 2.8–3.7 % relative
 * error; every greedy position whose fp32 top-2 margin exceeds 0.1 kept its top-1 token, 39 of
 * 60). Random weights give flat logits, so sequences say little; these bounds catch a broken
 * scale, layout or activation quantisation, each of which costs tens of percent.
 */
const ENCODER_REL_ERROR = 0.05;
const LOGITS_REL_ERROR = 0.06;
const CONFIDENT_MARGIN = 0.1;

/** Top-1 minus top-2. */
function margin(a: Float32Array): number {
  const [first, second] = topK(a, 2).values;
  return first! - second!;
}

describe('int8 precision on the fixture model', () => {
  const cacheDir = tempDir('int8-graphs');
  let int8: Pix2StructModel;
  let fp32: Pix2StructModel;

  before(async () => {
    int8 = await Pix2StructModel.load(MODEL_DIR, { precision: 'int8', cacheDir });
    fp32 = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir });
  });
  after(async () => {
    await int8?.release();
    await fp32?.release();
  });

  test('reports int8 and why; the graphs live in their own cache folder with no float32 weights', () => {
    assert.equal(int8.precision.used, 'int8');
    assert.match(int8.precision.reason, /^requested/);
    assert.equal(int8.provider.used, 'cpu');
    assert.notEqual(int8.graphs.dir, fp32.graphs.dir);
    const source = fs.statSync(fs.realpathSync(path.join(MODEL_DIR, 'model.safetensors')));
    const files = fs.readdirSync(int8.graphs.dir);
    for (const f of files) assert.notEqual(fs.statSync(path.join(int8.graphs.dir, f)).ino, source.ino, `${f} is the float32 checkpoint`);
    // Linear layers and token embeddings at one byte per weight; only norms and the (small)
    // patch-position tables stay float32.
    const bytes = fs.statSync(path.join(int8.graphs.dir, 'weights.bin')).size;
    assert.ok(bytes < 0.4 * source.size, `weights.bin is ${bytes} bytes for a ${source.size}-byte float32 checkpoint`);
  });

  for (const image of IMAGES) {
    test(`${image}: encoder states and prefix logits within the measured int8 error of transformers`, async () => {
      const ref = modelRef(image);
      const encoding = await int8.encode(referenceInputs(image));
      const states = encoding.lastHiddenState.data as Float32Array;
      const expected = readReference(ref.encoder_last_hidden_state).subarray(0, states.length);
      const encoderError = relativeError(states, expected);
      assert.ok(encoderError > 0 && encoderError <= ENCODER_REL_ERROR, `encoder relative error ${encoderError}`);
      const logits = await int8.decoderFor(encoding).forward([ref.prefix_ids]);
      const logitsError = relativeError(logits, readReference(ref.prefix_logits));
      assert.ok(logitsError <= LOGITS_REL_ERROR, `logits relative error ${logitsError}`);
    });
  }

  test('where fp32 is confident (top-2 margin > 0.1), int8 picks the same next token', async () => {
    const vocab = fp32.config.text.vocabSize;
    let confident = 0;
    for (const image of IMAGES) {
      const ids = (modelRef(image).greedy_ids as number[]).slice(0, -1); // teacher-forced along the fp32 path
      const a = await fp32.decoderFor(await fp32.encode(referenceInputs(image))).forward([ids]);
      const b = await int8.decoderFor(await int8.encode(referenceInputs(image))).forward([ids]);
      for (let t = 0; t < ids.length; t++) {
        const ref = a.subarray(t * vocab, (t + 1) * vocab);
        if (margin(ref) <= CONFIDENT_MARGIN) continue;
        confident++;
        assert.equal(argmax(b.subarray(t * vocab, (t + 1) * vocab)), argmax(ref), `${image} step ${t}`);
      }
    }
    assert.ok(confident >= 20, `only ${confident} confident positions: the check says nothing`);
  });

  test('greedy and beam search run on int8 with the cache as in fp32', async () => {
    const encoding = await int8.encode(referenceInputs('chart'));
    const greedy = await int8.generate(encoding, { maxNewTokens: 10 });
    const full = await int8.decoderFor(encoding).forward([greedy.tokenIds.slice(0, -1)]);
    // The cached steps and one full forward over the same ids agree: same graph, same weights.
    const vocab = int8.config.text.vocabSize;
    greedy.tokenIds.slice(1).forEach((id, t) => assert.equal(argmax(full.subarray(t * vocab, (t + 1) * vocab)), id, `step ${t}`));
    const beam = await int8.generate(encoding, { maxNewTokens: 10, numBeams: 3 });
    assert.equal(beam.tokenIds[0], 0);
    assert.ok(Number.isFinite(beam.sequenceScore));
  });

  test('a weight that cannot be quantised (NaN) is refused naming the tensor', async () => {
    const dir = tempDir('int8-nan');
    for (const f of ['config.json', 'generation_config.json', 'preprocessor_config.json']) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
    const header = readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors'));
    const target = 'decoder.layer.1.mlp.DenseReluDense.wo.weight';
    const tensors = new Map<string, RawTensor>();
    for (const e of header.tensors.values()) {
      const data = readTensorBytes(e);
      if (e.name === target) new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4)[3] = NaN;
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
    }
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    await assert.rejects(Pix2StructModel.load(dir, { precision: 'int8', cacheDir: tempDir('int8-nan-graphs') }), (err: unknown) => {
      assert.ok(err instanceof CheckpointError, String(err));
      assert.match(err.message, new RegExp(`tensor "${target.replace(/\./g, '\\.')}"\\): cannot be quantised to int8: .*NaN`));
      return true;
    });
  });
});
