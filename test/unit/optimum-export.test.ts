import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { AbortError, CheckpointError, UsageError } from '../../model-runtime/src/errors';
import { findOptimumLayout } from '../../model-runtime/src/onnx-export/layout';
import { float16ToFloat32, float32ToFloat16, fromHalfBits, toHalfBits } from '../../model-runtime/src/onnx-export/float16';
import { OptimumPix2StructModel, type OptimumImageEncoding } from '../../model-runtime/src/onnx-export/optimum-model';
import { ModelSession } from '../../model-runtime/src/runtime/ort-session';
import { FIXTURE_ROOT, IMAGES, index, maxAbsDiff, modelRef, readReference, referenceInputs, tempDir } from '../helpers/fixture';
import { makeXenovaExport } from '../helpers/xenova-export';

// The fixture README's tolerances for a port, as in model-parity.test.ts.
const STATE_ATOL = 1e-4;
const SCORE_ATOL = 1e-4;
/**
 * fp16 graphs against the float32 references, step-0 logits max abs diff: measured 6.8e-3 on
 * the chart image (logits up to 4.4, where a float16 step is 3.9e-3), so about 4x headroom.
 */
const FP16_LOGITS_ATOL = 3e-2;



const CONFIGS = ['config.json', 'generation_config.json', 'preprocessor_config.json'];

/** Hard-links (or copies) files of `from` into `to`, so layouts share one export on disk. */
function linkInto(from: string, to: string, names: readonly string[]): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of names) {
    try {
      fs.linkSync(path.join(from, name), path.join(to, name));
    } catch {
      fs.copyFileSync(path.join(from, name), path.join(to, name));
    }
  }
}

/** Empty files with these names: enough for the layout search, which never opens them. */
function fakeFolder(names: readonly string[]): string {
  const dir = tempDir('optimum-layout');
  for (const name of names) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), name.endsWith('.json') ? '{}' : '');
  }
  return dir;
}

const work = tempDir('optimum');
let skipReason: string | null = null;
let exportSeconds = 0;
const exportDir = path.join(work, 'export');
const splitOnlyDir = path.join(work, 'split-only');
const quantizedDir = path.join(work, 'quantized');
const fp16Dir = path.join(work, 'fp16');

/** Skips a test that needs the export when Python could not make it. */
function skipped(t: TestContext): boolean {
  if (skipReason) t.skip(skipReason);
  return skipReason !== null;
}

before(() => {
  // One export serves both this file and the Hub tests: optimum's own folder (work/export) and a
  // transformers.js-style repository (work/repo/onnx) with the quantized and fp16 variants.
  const start = performance.now();
  const made = makeXenovaExport(work);
  exportSeconds = (performance.now() - start) / 1000;
  if (made.skip !== undefined) {
    skipReason = made.skip;
    return;
  }
  const variants = path.join(made.repo, 'onnx');
  // The split pair alone, in an onnx/ subfolder with the configs at the root.
  linkInto(exportDir, splitOnlyDir, CONFIGS);
  linkInto(exportDir, path.join(splitOnlyDir, 'onnx'), ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx']);
  // Quantized graphs beside the plain merged ones: the variant option picks between them.
  linkInto(exportDir, quantizedDir, CONFIGS);
  linkInto(exportDir, path.join(quantizedDir, 'onnx'), ['encoder_model.onnx', 'decoder_model_merged.onnx']);
  linkInto(variants, path.join(quantizedDir, 'onnx'), ['encoder_model_quantized.onnx', 'decoder_model_merged_quantized.onnx']);
  // The fp16 graphs alone, as an fp16-only repository would ship them.
  linkInto(exportDir, fp16Dir, CONFIGS);
  linkInto(variants, path.join(fp16Dir, 'onnx'), ['encoder_model_fp16.onnx', 'decoder_model_merged_fp16.onnx']);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('optimum export (timings)', (t) => {
  if (skipped(t)) return;
  const files = fs.readdirSync(exportDir);
  assert.ok(files.includes('decoder_model_merged.onnx') && files.includes('decoder_with_past_model.onnx'), files.join(', '));
  t.diagnostic(`export, dynamic quantization and fp16 conversion ${exportSeconds.toFixed(1)} s; files: ${files.join(', ')}`);
});

for (const decoder of ['merged', 'split'] as const) {
  describe(`optimum export, ${decoder} decoder: parity with transformers (max_patches 256)`, () => {
    let model: OptimumPix2StructModel;
    const encodings = new Map<string, OptimumImageEncoding>();

    before(async () => {
      if (skipReason) return;
      model = await OptimumPix2StructModel.load(exportDir, { decoder, threads: 2 });
      for (const image of IMAGES) encodings.set(image, await model.encode(referenceInputs(image)));
    });
    after(() => model?.release());

    test('loads the requested decoder graphs from the export folder', (t) => {
      if (skipped(t)) return;
      assert.equal(model.layout.decoder.kind, decoder);
      assert.equal(model.layout.graphDir, exportDir);
      assert.equal(model.provider.used, 'cpu');
    });

    for (const image of IMAGES) {
      describe(image, () => {
        const ref = modelRef(image);

        test('encoder last_hidden_state, padding rows included', (t) => {
          if (skipped(t)) return;
          const got = encodings.get(image)!.lastHiddenState;
          const expected = readReference(ref.encoder_last_hidden_state);
          assert.equal(got.data.length, expected.length);
          const diff = maxAbsDiff(got.data as Float32Array, expected);
          assert.ok(diff <= STATE_ATOL, `max diff ${diff}`);
        });

        test('first-step and forced-prefix logits, in one call and step by step', async (t) => {
          if (skipped(t)) return;
          const encoding = encodings.get(image)!;
          const step0 = await model.decoderFor(encoding).forward([[0]]);
          assert.ok(maxAbsDiff(step0, readReference(ref.logits_step0)) <= STATE_ATOL, 'step 0');
          const expected = readReference(ref.prefix_logits); // [T, vocab]
          const full = await model.decoderFor(encoding).forward([ref.prefix_ids]);
          assert.ok(maxAbsDiff(full, expected) <= STATE_ATOL, `full forward max diff ${maxAbsDiff(full, expected)}`);
          // Several tokens after a cached one: the split with-past graph takes them one at a time.
          const mixed = model.decoderFor(encoding);
          const head = await mixed.forward([ref.prefix_ids.slice(0, 1)]);
          const tail = await mixed.forward([ref.prefix_ids.slice(1)]);
          assert.ok(maxAbsDiff([...head, ...tail], expected) <= STATE_ATOL, 'cached multi-token forward');
          const stepper = model.decoderFor(encoding);
          const stepped: number[] = [];
          for (const id of ref.prefix_ids as number[]) stepped.push(...(await stepper.step([id])));
          assert.ok(maxAbsDiff(stepped, expected) <= STATE_ATOL, `cached max diff ${maxAbsDiff(stepped, expected)}`);
        });

        test('greedy ids and per-step top-5 logits', async (t) => {
          if (skipped(t)) return;
          const result = await model.generate(encodings.get(image)!, { maxNewTokens: ref.greedy_ids.length - 1 });
          assert.deepEqual(result.tokenIds, ref.greedy_ids);
          result.steps!.forEach((step, i) => {
            assert.deepEqual(step.ids, ref.greedy_step_top5[i].ids, `step ${i}`);
            assert.ok(maxAbsDiff(step.values, ref.greedy_step_top5[i].logits) <= STATE_ATOL, `step ${i} logits`);
          });
        });

        test('3-beam ids and sequence score', async (t) => {
          if (skipped(t)) return;
          const result = await model.generate(encodings.get(image)!, { maxNewTokens: ref.beam3_ids.length - 1, numBeams: 3, lengthPenalty: 1, earlyStopping: false });
          assert.deepEqual(result.tokenIds, ref.beam3_ids);
          assert.ok(Math.abs(result.sequenceScore! - ref.beam3_sequence_score) <= SCORE_ATOL, `score ${result.sequenceScore} vs ${ref.beam3_sequence_score}`);
        });

        test('eos override stops greedy and beam search where transformers does', async (t) => {
          if (skipped(t)) return;
          const eo = ref.eos_override;
          const maxNewTokens = ref.greedy_ids.length - 1;
          const greedy = await model.generate(encodings.get(image)!, { maxNewTokens, eosTokenId: eo.eos_token_id });
          assert.deepEqual(greedy.tokenIds, eo.greedy_ids);
          const beam = await model.generate(encodings.get(image)!, { maxNewTokens, numBeams: 3, eosTokenId: eo.eos_token_id });
          assert.deepEqual(beam.tokenIds, eo.beam3_ids);
          assert.ok(Math.abs(beam.sequenceScore! - eo.beam3_sequence_score) <= SCORE_ATOL, `score ${beam.sequenceScore} vs ${eo.beam3_sequence_score}`);
        });
      });
    }

    test('streams greedy tokens in order and stops on abort', async (t) => {
      if (skipped(t)) return;
      const ref = modelRef('photo');
      const encoding = encodings.get('photo')!;
      const streamed: number[] = [];
      await model.generate(encoding, { maxNewTokens: ref.greedy_ids.length - 1, onToken: (e) => streamed.push(e.tokenId) });
      assert.deepEqual(streamed, ref.greedy_ids.slice(1));
      const controller = new AbortController();
      let seen = 0;
      await assert.rejects(
        model.generate(encoding, { maxNewTokens: 20, signal: controller.signal, onToken: () => ++seen === 3 && controller.abort() }),
        (err: unknown) => err instanceof AbortError,
      );
      assert.equal(seen, 3);
    });
  });
}

describe('optimum export folder layouts', () => {
  test('the CLI runs an export folder as a user would, with the reference ids', (t) => {
    if (skipped(t)) return;
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    const ref = modelRef('photo');
    const image = path.join(FIXTURE_ROOT, index.preprocess.photo.image);
    const run = spawnSync(process.execPath, [cli, 'generate', '--model', exportDir, '--image', image, '--max-patches', '256', '--max-new-tokens', String(ref.beam3_ids.length - 1), '--num-beams', '3', '--json'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual(out.token_ids, ref.beam3_ids);
    assert.ok(Math.abs(out.sequence_score - ref.beam3_sequence_score) <= 1e-4);
  });

  test('an onnx/ subfolder with only the split pair is found and matches the references', async (t) => {
    if (skipped(t)) return;
    const model = await OptimumPix2StructModel.load(splitOnlyDir, { threads: 2 });
    try {
      assert.equal(model.layout.graphDir, path.join(splitOnlyDir, 'onnx'));
      assert.equal(model.layout.decoder.kind, 'split');
      const ref = modelRef('ui');
      const result = await model.generate(await model.encode(referenceInputs('ui')), { maxNewTokens: ref.greedy_ids.length - 1 });
      assert.deepEqual(result.tokenIds, ref.greedy_ids);
    } finally {
      await model.release();
    }
  });

  test('an image with fewer patches than the export was traced for is padded with masked rows', async (t) => {
    if (skipped(t)) return;
    const model = await OptimumPix2StructModel.load(exportDir, { threads: 2 });
    try {
      const full = referenceInputs('chart');
      const width = full.flattenedPatches.length / full.maxPatches;
      const n = full.numPatches; // 234 of 256: the rest are padding
      const trimmed = { ...full, maxPatches: n, flattenedPatches: full.flattenedPatches.slice(0, n * width), attentionMask: full.attentionMask.slice(0, n) };
      const encoding = await model.encode(trimmed);
      const diff = maxAbsDiff(encoding.lastHiddenState.data as Float32Array, readReference(modelRef('chart').encoder_last_hidden_state));
      assert.ok(diff <= STATE_ATOL, `max diff ${diff}`);
      const tooMany = { ...full, maxPatches: 512, flattenedPatches: new Float32Array(512 * width), attentionMask: new Float32Array(512) };
      await assert.rejects(model.encode(tooMany), (err: unknown) => err instanceof UsageError && /takes 256 patches/.test(err.message));
    } finally {
      await model.release();
    }
  });

  test('the quantized variant loads the _quantized files and generates', async (t) => {
    if (skipped(t)) return;
    const model = await OptimumPix2StructModel.load(quantizedDir, { variant: 'quantized', threads: 2, precision: 'int8' });
    try {
      assert.equal(path.basename(model.layout.encoder), 'encoder_model_quantized.onnx');
      assert.deepEqual(model.precision, { used: 'int8', reason: 'ONNX export: runs as exported (encoder_model_quantized.onnx)' });
      assert.deepEqual(model.layout.decoder, { kind: 'merged', merged: path.join(quantizedDir, 'onnx', 'decoder_model_merged_quantized.onnx') });
      const ref = modelRef('chart');
      const encoding = await model.encode(referenceInputs('chart'));
      // int8 weights: near the float references (about 12% mean error on this random model), but not equal to them.
      const got = encoding.lastHiddenState.data as Float32Array;
      const expected = readReference(ref.encoder_last_hidden_state);
      const meanAbs = (f: (i: number) => number) => expected.reduce((sum, _, i) => sum + Math.abs(f(i)), 0) / expected.length;
      const relative = meanAbs((i) => got[i]! - expected[i]!) / meanAbs((i) => expected[i]!);
      assert.ok(relative > 1e-3 && relative < 0.25, `quantized encoder mean relative error ${relative}`);
      const result = await model.generate(encoding, { maxNewTokens: 8, numBeams: 3 });
      assert.equal(result.tokenIds[0], 0);
      assert.ok(result.tokenIds.length >= 2 && result.tokenIds.length <= 9);
      assert.ok(Number.isFinite(result.sequenceScore));
    } finally {
      await model.release();
    }
  });

  test('the fp16 variant runs float16 graphs: float16 I/O, logits near float32, generation to the end', async (t) => {
    if (skipped(t)) return;
    const model = await OptimumPix2StructModel.load(fp16Dir, { variant: 'fp16', threads: 2, precision: 'int8' });
    try {
      // A precision setting does not re-quantise an export: it runs as exported and says so.
      assert.equal(model.precision.used, 'fp16');
      assert.match(model.precision.reason, /^ONNX export: runs as exported \(encoder_model_fp16\.onnx\); precision int8 applies only to checkpoints with weights/);
      const graphDir = path.join(fp16Dir, 'onnx');
      assert.equal(model.layout.encoder, path.join(graphDir, 'encoder_model_fp16.onnx'));
      assert.deepEqual(model.layout.decoder, { kind: 'merged', merged: path.join(graphDir, 'decoder_model_merged_fp16.onnx') });
      // The graphs really take and return float16 (not float32 I/O around float16 weights).
      const typesOf = async (file: string) => {
        const session = await ModelSession.open(file, path.basename(file));
        try {
          const types = new Map<string, string>();
          for (const m of [...session.inputMetadata, ...session.outputMetadata]) if (m.isTensor) types.set(m.name, m.type);
          return types;
        } finally {
          await session.release();
        }
      };
      const encoderTypes = await typesOf(model.layout.encoder);
      assert.equal(encoderTypes.get('flattened_patches'), 'float16');
      assert.equal(encoderTypes.get('last_hidden_state'), 'float16');
      const decoderTypes = await typesOf(path.join(graphDir, 'decoder_model_merged_fp16.onnx'));
      for (const name of ['encoder_hidden_states', 'past_key_values.0.decoder.key', 'past_key_values.0.encoder.value', 'present.0.decoder.key', 'logits']) {
        assert.equal(decoderTypes.get(name), 'float16', name);
      }

      const ref = modelRef('chart');
      const encoding = await model.encode(referenceInputs('chart'));
      assert.equal(encoding.lastHiddenState.type, 'float32');
      const stateDiff = maxAbsDiff(encoding.lastHiddenState.data as Float32Array, readReference(ref.encoder_last_hidden_state));
      const expected = readReference(ref.logits_step0);
      const step0 = await model.decoderFor(encoding).forward([[0]]);
      assert.ok(step0 instanceof Float32Array);
      const logitsDiff = maxAbsDiff(step0, expected);
      const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      t.diagnostic(`fp16 vs float32 references: encoder states max abs diff ${stateDiff.toExponential(2)}, step-0 logits max abs diff ${logitsDiff.toExponential(2)} (logits up to ${scale.toFixed(3)})`);
      assert.ok(logitsDiff > 0 && logitsDiff <= FP16_LOGITS_ATOL, `step-0 logits max abs diff ${logitsDiff}`);

      // Greedy runs to the end over a float16 cache; beam search reorders float16 rows.
      const maxNewTokens = ref.greedy_ids.length - 1;
      const greedy = await model.generate(encoding, { maxNewTokens });
      assert.equal(greedy.tokenIds[0], 0);
      const ended = greedy.tokenIds.length === maxNewTokens + 1 || model.generation.eosTokenIds.includes(greedy.tokenIds.at(-1)!);
      assert.ok(ended, `greedy stopped early: ${greedy.tokenIds.join(', ')}`);
      assert.ok(greedy.tokenIds.every((id) => Number.isInteger(id) && id >= 0 && id < model.config.text.vocabSize));
      const same = greedy.tokenIds.filter((id, i) => id === ref.greedy_ids[i]).length;
      t.diagnostic(`fp16 greedy ids match the float32 reference at ${same} of ${ref.greedy_ids.length} positions`);
      const beam = await model.generate(encoding, { maxNewTokens: 8, numBeams: 3 });
      assert.equal(beam.tokenIds[0], 0);
      assert.ok(Number.isFinite(beam.sequenceScore));
    } finally {
      await model.release();
    }
  });

  test('float16 conversion rounds to nearest even and widens exactly', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65519.99, 0x7bff], [65520, 0x7c00], [-1e6, 0xfc00],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], // ties go to the even pattern
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14 - 2 ** -25, 0x0400], [-0, 0x8000],
    ];
    for (const [value, bits] of cases) assert.equal(toHalfBits(value), bits, `${value}`);
    assert.deepEqual(float32ToFloat16(Float32Array.of(Infinity, -Infinity)), Uint16Array.of(0x7c00, 0xfc00));
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
    const all = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    const wide = float16ToFloat32(all);
    for (let h = 0; h < 0x10000; h++) if (!Number.isNaN(wide[h])) assert.equal(toHalfBits(wide[h]!), h, `pattern ${h}`);
  });

  test('an encoder without a decoder is rejected, naming the missing graphs', async () => {
    const dir = fakeFolder(['config.json', 'encoder_model.onnx']);
    await assert.rejects(OptimumPix2StructModel.load(dir), (err: unknown) => {
      assert.ok(err instanceof CheckpointError, String(err));
      assert.match(err.message, /incomplete optimum ONNX export/);
      assert.match(err.message, /missing decoder_model_merged\.onnx, or decoder_model\.onnx with decoder_with_past_model\.onnx/);
      assert.match(err.message, /Found: encoder_model\.onnx\./);
      return true;
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('half a split pair, an absent variant and an empty folder are named', () => {
    const noPast = fakeFolder(['onnx/encoder_model.onnx', 'onnx/decoder_model.onnx']);
    assert.throws(() => findOptimumLayout(noPast), /onnx: missing decoder_with_past_model\.onnx \(a decoder without a KV cache; re-export with --task image-to-text-with-past\)/);
    const plain = fakeFolder(['encoder_model.onnx', 'decoder_model_merged.onnx']);
    assert.throws(() => findOptimumLayout(plain, 'fp16'), /missing encoder_model_fp16\.onnx.*No fp16 variant here; variants found: default\./);
    assert.throws(() => findOptimumLayout(plain, 'default', 'split'), /missing decoder_model\.onnx; decoder_with_past_model\.onnx/);
    const empty = fakeFolder(['config.json']);
    assert.throws(() => findOptimumLayout(empty), (err: unknown) => err instanceof CheckpointError && /no \.onnx files here or in onnx\//.test(err.message));
    for (const dir of [noPast, plain, empty]) fs.rmSync(dir, { recursive: true, force: true });
  });
});
