import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GenerationDefaults } from '../../model-runtime/src/checkpoint/config';
import { UsageError } from '../../model-runtime/src/errors';
import { checkpointMaxNewTokens, resolveMaxNewTokens } from '../../model-runtime/src/generation/budget';
import { generateWith } from '../../model-runtime/src/generation/generate';
import type { DecoderStepper } from '../../model-runtime/src/generation/stepper';
import { Pix2StructModel, type ImageEncoding } from '../../model-runtime/src/model';
import { DEFAULT_MAX_NEW_TOKENS, findRegistryEntry, REGISTRY } from '../../model-runtime/src/registry';
import { ContinuableRun } from '../../src/continue-run';
import { InferenceClient } from '../../src/inference-client';
import type { DescribeResult } from '../../src/protocol/describe-result';
import { IMAGES, imagePath, MODEL_DIR, modelRef, referenceInputs, tempDir } from '../helpers/fixture';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const WORKER = path.resolve(__dirname, '../../dist/inference-worker.js');
const graphs = tempDir('budget-graphs');
after(() => fs.rmSync(graphs, { recursive: true, force: true }));

describe('token budgets per task', () => {
  test('tables and UI parses get hundreds of tokens; captions and answers far fewer', () => {
    assert.equal(findRegistryEntry('google/deplot')!.maxNewTokens, 512);
    assert.equal(findRegistryEntry('google/pix2struct-base')!.maxNewTokens, 512);
    assert.equal(findRegistryEntry('google/pix2struct-textcaps-base')!.maxNewTokens, 64);
    assert.equal(findRegistryEntry('google/pix2struct-docvqa-base')!.maxNewTokens, 32);
    for (const e of REGISTRY) {
      const long = e.output === 'table' || e.output === 'html' || e.task === 'chart-summary';
      assert.ok(long ? e.maxNewTokens >= 256 : e.maxNewTokens <= 64, `${e.id} (${e.output}): ${e.maxNewTokens}`);
    }
  });

  test("the checkpoint's generation_config.json wins over the task's budget, transformers' bare default does not", () => {
    const defaults = (maxNewTokens: number | null, maxLength: number): GenerationDefaults => ({
      decoderStartTokenId: 0,
      eosTokenIds: [1],
      padTokenId: 0,
      maxNewTokens,
      maxLength,
      numBeams: 1,
      lengthPenalty: 1,
      earlyStopping: false,
    });
    assert.equal(checkpointMaxNewTokens(defaults(null, 20)), undefined, 'max_length 20 is what a missing config means');
    assert.equal(resolveMaxNewTokens(defaults(null, 20), undefined, 512), 512);
    assert.equal(resolveMaxNewTokens(defaults(null, 300), undefined, 512), 299);
    assert.equal(resolveMaxNewTokens(defaults(40, 300), undefined, 512), 40);
    assert.equal(resolveMaxNewTokens(defaults(40, 300), 7, 512), 7, 'the user decides first');
  });
});

describe('why generation stopped, and continuing where the budget stopped it', () => {
  let model: Pix2StructModel;
  const encodings = new Map<string, ImageEncoding>();
  before(async () => {
    model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir: graphs });
    for (const image of IMAGES) encodings.set(image, await model.encode(referenceInputs(image)));
  });
  after(() => model?.release());

  test('greedy and beam search say whether eos or the budget ended the answer', async () => {
    const ref = modelRef('chart');
    const cut = await model.generate(encodings.get('chart')!, { maxNewTokens: 5 });
    assert.deepEqual(cut.tokenIds, ref.greedy_ids.slice(0, 6));
    assert.equal(cut.stoppedBy, 'budget');
    // The fixture's eos override ends greedy decoding after 6 tokens, within a budget of 20.
    const eo = ref.eos_override;
    const ended = await model.generate(encodings.get('chart')!, { maxNewTokens: 20, eosTokenId: eo.eos_token_id });
    assert.deepEqual(ended.tokenIds, eo.greedy_ids);
    assert.equal(ended.stoppedBy, 'eos');
    const beamCut = await model.generate(encodings.get('chart')!, { maxNewTokens: 20, numBeams: 3 });
    assert.deepEqual(beamCut.tokenIds, ref.beam3_ids);
    assert.equal(beamCut.stoppedBy, 'budget');
    // With a token of the best beam as eos, that beam finishes early.
    const eos = ref.beam3_ids[7];
    const beamEnded = await model.generate(encodings.get('chart')!, { maxNewTokens: 10, numBeams: 3, eosTokenId: eos });
    assert.equal(beamEnded.stoppedBy, 'eos');
    assert.equal(beamEnded.tokenIds.at(-1), eos);
    assert.ok(beamEnded.tokenIds.length < 11, `${beamEnded.tokenIds}`);
  });

  for (const image of IMAGES) {
    test(`${image}: budget 5 then Continue for 5 more gives transformers' ids of one run with budget 10`, async () => {
      const ref = modelRef(image);
      const first = await model.generate(encodings.get(image)!, { maxNewTokens: 5 });
      const steps: number[] = [];
      const streamed: number[] = [];
      const more = await model.generate(encodings.get(image)!, {
        maxNewTokens: 5,
        prefixIds: first.tokenIds,
        onToken: (e) => {
          steps.push(e.step);
          streamed.push(e.tokenId);
        },
      });
      assert.deepEqual(more.tokenIds, ref.greedy_ids.slice(0, 11));
      assert.equal(more.stoppedBy, 'budget');
      assert.deepEqual(streamed, ref.greedy_ids.slice(6, 11), 'only the new tokens stream');
      assert.deepEqual(steps, [5, 6, 7, 8, 9], 'steps count on from the prefix');
    });
  }

  test('the prefix goes through the decoder in one call with its KV cache, not one step per token', async () => {
    const ref = modelRef('ui');
    const decoder = model.decoderFor(encodings.get('ui')!);
    const calls: string[] = [];
    const counting: DecoderStepper = {
      vocabSize: decoder.vocabSize,
      step: (tokens, reorder) => (calls.push('step'), decoder.step(tokens, reorder)),
      forward: (ids) => (calls.push(`forward ${ids[0]!.length}`), decoder.forward(ids)),
    };
    try {
      const result = await generateWith(counting, model.checkpoint.generation, { maxNewTokens: 3, prefixIds: ref.greedy_ids.slice(0, 15) });
      assert.deepEqual(result.tokenIds, ref.greedy_ids.slice(0, 18));
      assert.deepEqual(calls, ['forward 14', 'step', 'step', 'step']);
    } finally {
      decoder.release();
    }
    // A decoder that only steps gets the prefix one token at a time, with the same result.
    const stepOnly = model.decoderFor(encodings.get('ui')!);
    try {
      const result = await generateWith({ vocabSize: stepOnly.vocabSize, step: (t) => stepOnly.step(t) }, model.checkpoint.generation, { maxNewTokens: 3, prefixIds: ref.greedy_ids.slice(0, 15) });
      assert.deepEqual(result.tokenIds, ref.greedy_ids.slice(0, 18));
    } finally {
      stepOnly.release();
    }
  });

  test('a continuation ends at eos like the longer run would', async () => {
    const eo = modelRef('chart').eos_override;
    const first = await model.generate(encodings.get('chart')!, { maxNewTokens: 3, eosTokenId: eo.eos_token_id });
    assert.equal(first.stoppedBy, 'budget');
    const more = await model.generate(encodings.get('chart')!, { maxNewTokens: 10, eosTokenId: eo.eos_token_id, prefixIds: first.tokenIds });
    assert.deepEqual(more.tokenIds, eo.greedy_ids);
    assert.equal(more.stoppedBy, 'eos');
  });

  test('a prefix that is not a stopped answer is refused', async () => {
    const enc = encodings.get('chart')!;
    const ids = modelRef('chart').greedy_ids.slice(0, 4);
    await assert.rejects(model.generate(enc, { prefixIds: ids.slice(1) }), (e: unknown) => e instanceof UsageError && /decoder start id 0/.test((e as Error).message));
    await assert.rejects(model.generate(enc, { prefixIds: [...ids, 1] }), /already ended \(eos\)/);
    await assert.rejects(model.generate(enc, { prefixIds: [0, 99_999] }), /not a token id/);
    await assert.rejects(model.generate(enc, { prefixIds: ids, numBeams: 3 }), /greedy only/);
  });

  test('asked to, a cancelled run returns its tokens so far as stopped by cancel', async () => {
    const controller = new AbortController();
    const result = await model.generate(encodings.get('photo')!, {
      maxNewTokens: 20,
      signal: controller.signal,
      returnPartialOnAbort: true,
      onToken: (e) => e.step === 2 && controller.abort(),
    });
    assert.equal(result.stoppedBy, 'cancelled');
    assert.deepEqual(result.tokenIds, modelRef('photo').greedy_ids.slice(0, 4));
  });
});

describe('the CLI budget without --max-new-tokens', () => {
  const work = tempDir('budget-cli');
  after(() => fs.rmSync(work, { recursive: true, force: true }));
  const generate = (model: string, ...extra: string[]) => {
    const r = spawnSync(process.execPath, [CLI, 'generate', '--model', model, '--image', imagePath('chart', 'plain'), '--max-patches', '256', '--precision', 'fp32', '--cache-dir', graphs, ...extra, '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { token_ids: number[]; stopped_by: string };
  };
  /** The fixture's files in a Hugging Face cache snapshot of `repoId`, optionally with another generation_config.json. */
  const snapshot = (repoId: string, generationConfig?: object) => {
    const dir = path.join(work, `models--${repoId.replace('/', '--')}`, 'snapshots', 'a'.repeat(40));
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(MODEL_DIR)) fs.symlinkSync(path.join(MODEL_DIR, f), path.join(dir, f));
    if (generationConfig) {
      fs.rmSync(path.join(dir, 'generation_config.json'));
      fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ decoder_start_token_id: 0, eos_token_id: 1, pad_token_id: 0, ...generationConfig }));
    }
    return dir;
  };

  test("a known Hub id gets its task's budget; a folder of unknown kind a moderate one", () => {
    const deplot = generate(snapshot('google/deplot'));
    assert.equal(deplot.token_ids.length - 1, 512);
    assert.equal(deplot.stopped_by, 'budget');
    const caption = generate(snapshot('google/pix2struct-textcaps-base'));
    assert.equal(caption.token_ids.length - 1, 64);
    assert.deepEqual(caption.token_ids, deplot.token_ids.slice(0, 65));
    assert.equal(generate(MODEL_DIR).token_ids.length - 1, DEFAULT_MAX_NEW_TOKENS);
  });

  test('generation_config.json and --max-new-tokens decide before the task', () => {
    assert.equal(generate(snapshot('google/pix2struct-ai2d-base', { max_new_tokens: 7 })).token_ids.length - 1, 7);
    assert.equal(generate(snapshot('google/pix2struct-ocrvqa-base', { max_length: 12 })).token_ids.length - 1, 11);
    const out = generate(snapshot('google/pix2struct-widget-captioning-base'), '--max-new-tokens', '3');
    assert.deepEqual(out.token_ids, modelRef('chart').greedy_ids.slice(0, 4));
    assert.equal(out.stopped_by, 'budget');
  });
});

describe('the inference worker: task budgets and Continue', () => {
  const client = new InferenceClient(WORKER);
  const base = { task: 'describe' as const, modelPath: MODEL_DIR, imagePath: imagePath('chart', 'plain'), maxPatches: 256, graphCacheDir: graphs, threads: 2, precision: 'fp32' as const };
  after(() => client.dispose());

  test("without a setting the task's budget applies, and the result says the budget stopped it", async () => {
    const result = await client.describe({ ...base, taskMaxNewTokens: 3 }).done;
    assert.deepEqual(result.tokenIds, modelRef('chart').greedy_ids.slice(0, 4));
    assert.equal(result.stoppedBy, 'budget');
    assert.equal(result.maxNewTokens, 3);
  });

  test('a continue request re-encodes the image and streams on after the prefix', async () => {
    const ref = modelRef('chart');
    const first = await client.describe({ ...base, maxNewTokens: 4 }).done;
    const streamed: number[] = [];
    const more = await client.describe({ ...base, maxNewTokens: first.maxNewTokens, prefixIds: first.tokenIds }, (_text, id) => streamed.push(id)).done;
    assert.deepEqual(more.tokenIds, ref.greedy_ids.slice(0, 9));
    assert.deepEqual(streamed, ref.greedy_ids.slice(5, 9));
    assert.equal(more.stoppedBy, 'budget');
  });
});

describe("the extension's Continue bookkeeping", () => {
  const result = (stoppedBy: 'eos' | 'budget'): DescribeResult => ({
    tokenIds: [0, 5, 6],
    text: null,
    timingsMs: { load: 0, preprocess: 1, encoder: 1, decoder: 1 },
    provider: 'cpu',
    precision: { used: 'fp32', reason: 'test' },
    stoppedBy,
    maxNewTokens: 2,
  });
  const target = { task: 'describe' as const, image: 'chart.png' };
  const setting = () => 'google/pix2struct-textcaps-base';

  test('only the latest result its budget stopped can be continued, with the same model and nothing running', () => {
    const runs = new ContinuableRun<typeof target>();
    assert.match((runs.continuation(1, setting, false) as { error: string }).error, /no longer be continued/);
    runs.finished(1, target, setting(), result('budget'));
    assert.deepEqual(runs.continuation(1, setting, false), { target, prefix: { runId: 1, tokenIds: [0, 5, 6], maxNewTokens: 2 } });
    assert.match((runs.continuation(1, setting, true) as { error: string }).error, /in progress/);
    assert.match((runs.continuation(1, () => 'google/deplot', false) as { error: string }).error, /model setting changed/);
    assert.match((runs.continuation(2, setting, false) as { error: string }).error, /no longer be continued/);
    runs.finished(2, target, setting(), result('eos'));
    assert.match((runs.continuation(1, setting, false) as { error: string }).error, /no longer be continued/, 'a later run replaces it');
  });
});
