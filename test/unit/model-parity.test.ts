import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Pix2StructModel, type ImageEncoding } from '../../model-runtime/src/model';
import { IMAGES, index, MODEL_DIR, maxAbsDiff, modelRef, readReference, referenceInputs, tempDir } from '../helpers/fixture';

// Tolerances the fixture README sets for a port (the reference's own KV-cache vs full-forward
// spread is 4.1e-6).
const STATE_ATOL = 1e-4;
const SCORE_ATOL = 1e-4;

describe('model-a parity with transformers (max_patches 256, plain inputs)', () => {
  let model: Pix2StructModel;
  const encodings = new Map<string, ImageEncoding>();

  before(async () => {
    model = await Pix2StructModel.load(MODEL_DIR, { cacheDir: tempDir('graphs'), threads: 2, precision: 'fp32' });
    for (const image of IMAGES) {
      encodings.set(image, await model.encode(referenceInputs(image)));
    }
  });
  after(() => model?.release());

  for (const image of IMAGES) {
    describe(image, () => {
      const ref = modelRef(image);

      // Padding patches never enter the encoder (nothing reads their states: every key mask
      // hides them), so the real rows are compared and the padding rows must be absent.
      test('encoder last_hidden_state of the real patches', () => {
        const got = encodings.get(image)!.lastHiddenState;
        const [, hidden] = expectedShape(ref.encoder_last_hidden_state);
        const real = referenceInputs(image).numPatches;
        assert.deepEqual(got.dims, [1, real, hidden]);
        const expected = readReference(ref.encoder_last_hidden_state).subarray(0, real * hidden!);
        assert.ok(maxAbsDiff(got.data as Float32Array, expected) <= STATE_ATOL, `max diff ${maxAbsDiff(got.data as Float32Array, expected)}`);
      });

      test('first-step logits for decoder input [[0]]', async () => {
        const logits = await model.decoderFor(encodings.get(image)!).forward([[0]]);
        const diff = maxAbsDiff(logits, readReference(ref.logits_step0));
        assert.ok(diff <= STATE_ATOL, `max diff ${diff}`);
      });

      test('forced-prefix logits, full forward and step by step with the KV cache', async () => {
        const expected = readReference(ref.prefix_logits);
        const full = await model.decoderFor(encodings.get(image)!).forward([ref.prefix_ids]);
        assert.ok(maxAbsDiff(full, expected) <= STATE_ATOL, `full forward max diff ${maxAbsDiff(full, expected)}`);
        const decoder = model.decoderFor(encodings.get(image)!);
        const stepped: number[] = [];
        for (const id of ref.prefix_ids as number[]) stepped.push(...(await decoder.step([id])));
        assert.ok(maxAbsDiff(stepped, expected) <= STATE_ATOL, `cached max diff ${maxAbsDiff(stepped, expected)}`);
      });

      test('greedy ids and per-step top-5 logits', async () => {
        const result = await model.generate(encodings.get(image)!, { maxNewTokens: ref.greedy_ids.length - 1 });
        assert.deepEqual(result.tokenIds, ref.greedy_ids);
        result.steps!.forEach((step, i) => {
          assert.deepEqual(step.ids, ref.greedy_step_top5[i].ids, `step ${i}`);
          assert.ok(maxAbsDiff(step.values, ref.greedy_step_top5[i].logits) <= STATE_ATOL, `step ${i} logits`);
        });
      });

      test('3-beam ids and sequence score', async () => {
        const result = await model.generate(encodings.get(image)!, { maxNewTokens: ref.beam3_ids.length - 1, numBeams: 3, lengthPenalty: 1, earlyStopping: false });
        assert.deepEqual(result.tokenIds, ref.beam3_ids);
        assert.ok(Math.abs(result.sequenceScore! - ref.beam3_sequence_score) <= SCORE_ATOL, `score ${result.sequenceScore} vs ${ref.beam3_sequence_score}`);
      });

      test('eos override stops greedy and beam search early where transformers does', async () => {
        const eo = ref.eos_override;
        const maxNewTokens = ref.greedy_ids.length - 1;
        const greedy = await model.generate(encodings.get(image)!, { maxNewTokens, eosTokenId: eo.eos_token_id });
        assert.deepEqual(greedy.tokenIds, eo.greedy_ids);
        const beam = await model.generate(encodings.get(image)!, { maxNewTokens, numBeams: 3, eosTokenId: eo.eos_token_id });
        assert.deepEqual(beam.tokenIds, eo.beam3_ids);
        assert.ok(Math.abs(beam.sequenceScore! - eo.beam3_sequence_score) <= SCORE_ATOL);
      });
    });
  }
});

function expectedShape(key: string): number[] {
  return index.tensors[key].shape;
}
