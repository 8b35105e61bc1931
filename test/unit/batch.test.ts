import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { logSoftmax } from '../../model-runtime/src/generation/logits';
import { Pix2StructModel, type ImageEncoding } from '../../model-runtime/src/model';
import { IMAGES, MODEL_DIR, maxAbsDiff, modelRef, readReference, referenceInputs, tempDir } from '../helpers/fixture';

describe('batches: several images in one encoder and decoder call', () => {
  let model: Pix2StructModel;
  let batch: ImageEncoding;

  before(async () => {
    model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir: tempDir('batch-graphs') });
    batch = await model.encodeBatch(IMAGES.map((image) => referenceInputs(image)));
  });
  after(() => model?.release());

  // The images have different numbers of real patches: each row holds its own real patches'
  // states, zero-padded to the longest, and the encoder mask says which rows are real.
  test('encoder states of each row match that image alone', () => {
    const [rows, patches, hidden] = batch.lastHiddenState.dims as [number, number, number];
    const lengths = IMAGES.map((image) => referenceInputs(image).numPatches);
    assert.deepEqual([rows, patches, hidden], [IMAGES.length, Math.max(...lengths), 64]);
    assert.ok(new Set(lengths).size > 1, 'the fixture images should differ in patch count');
    const states = batch.lastHiddenState.data as Float32Array; // [3, P, 64]
    const mask = batch.encoderMask.data as Float32Array; // [3, P]
    IMAGES.forEach((image, r) => {
      const n = lengths[r]!;
      const row = states.subarray(r * patches * hidden, (r + 1) * patches * hidden);
      const expected = readReference(modelRef(image).encoder_last_hidden_state).subarray(0, n * hidden);
      const diff = maxAbsDiff(row.subarray(0, n * hidden), expected);
      assert.ok(diff <= 1e-4, `${image}: ${diff}`);
      assert.ok(row.subarray(n * hidden).every((v) => v === 0), `${image}: padding rows are not zero`);
      assert.deepEqual(Array.from(mask.subarray(r * patches, (r + 1) * patches)), Array.from({ length: patches }, (_, p) => (p < n ? 1 : 0)));
    });
  });

  test('batched greedy decoding gives each image its own reference ids', async () => {
    const ids = await model.generateBatch(batch, { maxNewTokens: 20 });
    IMAGES.forEach((image, r) => assert.deepEqual(ids[r], modelRef(image).greedy_ids, image));
  });

  test('rows that reach eos stop while the others go on', async () => {
    const eos = modelRef('chart').eos_override.eos_token_id;
    const ids = await model.generateBatch(batch, { maxNewTokens: 20, eosTokenId: eos });
    IMAGES.forEach((image, r) => {
      const full: number[] = modelRef(image).greedy_ids;
      const stop = full.indexOf(eos, 1);
      assert.deepEqual(ids[r], stop < 0 ? full : full.slice(0, stop + 1), image);
    });
    assert.deepEqual(ids[0], modelRef('chart').eos_override.greedy_ids);
  });

  test('first-token log-probabilities score every candidate in one step', async () => {
    const tokens = [1, 2, 33360, 42713];
    const scores = await model.firstTokenLogprobs(batch, tokens);
    IMAGES.forEach((image, r) => {
      const expected = logSoftmax(readReference(modelRef(image).logits_step0));
      assert.ok(maxAbsDiff(scores[r]!, tokens.map((t) => expected[t]!)) <= 1e-4, image);
    });
  });
});
