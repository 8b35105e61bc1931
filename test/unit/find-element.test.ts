import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { proposeElements } from '../../model-runtime/src/tasks/element-proposals';
import { findElement } from '../../model-runtime/src/tasks/index';
import { parseFindFromWebview } from '../../src/protocol/find-element';
import { InferenceClient } from '../../src/inference-client';
import { parseFromWebview } from '../../src/protocol/panel';
import { imagePath, MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { makeRefExpModel, REFEXP_FALSE_ID, REFEXP_TRUE_ID } from '../helpers/refexp-model';

// The bundle the extension starts (npm run build), in a real worker thread.
const WORKER = path.resolve(__dirname, '../../dist/inference-worker.js');
const temp = trackedTempDirs();

describe('Find Element in the inference worker', () => {
  const client = new InferenceClient(WORKER);
  const graphCacheDir = temp.tempDir('find-graphs');
  const refexp = makeRefExpModel(MODEL_DIR, path.join(temp.tempDir('find-model'), 'refexp'));
  const ui = imagePath('ui', 'plain');
  const base = { modelPath: refexp, imagePath: ui, maxPatches: 256, graphCacheDir, threads: 2, precision: 'fp32' as const };
  const phrase = 'the search icon';
  let model: Pix2StructModel;
  before(async () => {
    model = await Pix2StructModel.load(refexp, { precision: 'fp32', cacheDir: graphCacheDir });
  });
  after(async () => {
    await client.dispose();
    await model?.release();
    temp.removeAll();
  });

  test('proposes candidates, streams progress and ranks them as the runtime does directly', async () => {
    const progress: [number, number][] = [];
    const result = await client.findElement({ ...base, phrase }, (scored, total) => progress.push([scored, total])).done;
    const screenshot = await decodeImage(ui);
    const candidates = await proposeElements(screenshot);
    assert.ok(candidates.length > 4, `only ${candidates.length} proposals on the UI fixture`);
    assert.deepEqual(result.candidates, candidates);
    assert.equal(result.proposed, true);
    assert.deepEqual([result.trueTokenId, result.falseTokenId], [REFEXP_TRUE_ID, REFEXP_FALSE_ID]);
    const direct = await findElement(model, screenshot, phrase, candidates, { trueTokenId: REFEXP_TRUE_ID, falseTokenId: REFEXP_FALSE_ID, maxPatches: 256, batchSize: 4 });
    assert.deepEqual(result.ranked.map((r) => r.candidate), direct.map((d) => d.candidate));
    assert.deepEqual(result.ranked.map((r) => r.box), direct.map((d) => candidates[d.candidate]));
    result.ranked.forEach((r, i) => assert.ok(Math.abs(r.pTrue - direct[i]!.pTrue) < 1e-6));
    assert.deepEqual(progress[0], [0, candidates.length]);
    assert.deepEqual(progress.at(-1), [candidates.length, candidates.length]);
    assert.ok(progress.every(([s], i) => i === 0 || s > progress[i - 1]![0]), `progress not increasing: ${JSON.stringify(progress)}`);
  });

  test('given candidates are ranked as given, and the phrase changes the scores', async () => {
    const candidates = [
      { x0: 10, y0: 20, x1: 120, y1: 60 },
      { x0: 200, y0: 300, x1: 350, y1: 420 },
      { x0: 40, y0: 500, x1: 300, y1: 520 },
    ];
    const a = await client.findElement({ ...base, phrase, candidates }).done;
    const b = await client.findElement({ ...base, phrase: 'the wifi toggle', candidates }).done;
    assert.equal(a.proposed, false);
    assert.deepEqual(a.candidates, candidates);
    assert.deepEqual(a.ranked.map((r) => r.candidate).sort(), [0, 1, 2]);
    assert.notDeepEqual(a.ranked.map((r) => r.pTrue), b.ranked.map((r) => r.pTrue), 'the phrase reaches the model');
  });

  test('Stop ends the scoring within one batch and the worker keeps serving', async () => {
    const seen: number[] = [];
    let request: ReturnType<InferenceClient['findElement']> | undefined;
    request = client.findElement({ ...base, phrase: 'anything' }, (scored) => {
      seen.push(scored);
      if (scored >= 4) client.cancel(request!.id);
    });
    await assert.rejects(request.done, (err: Error & { code?: string }) => err.code === 'ABORTED');
    // Batches already scored when Stop is posted may still report; the worker stops at the next.
    assert.ok(seen.at(-1)! <= 12, `scoring went on to ${seen.at(-1)} after Stop at 4`);
    const again = await client.findElement({ ...base, phrase, candidates: [{ x0: 0, y0: 0, x1: 50, y1: 50 }] }).done;
    assert.equal(again.ranked.length, 1);
  });

  test('a model without a tokenizer is refused with a clear error', async () => {
    await assert.rejects(client.findElement({ ...base, modelPath: MODEL_DIR, phrase }).done, /has no tokenizer\.json/);
  });
});

describe('Find Element messages from the webview are validated', () => {
  test('find and ground pass when well formed', () => {
    assert.deepEqual(parseFromWebview({ type: 'find', phrase: '  the OK button ' }), { type: 'find', phrase: 'the OK button' });
    assert.deepEqual(parseFromWebview({ type: 'ground', nodeId: '0.2.1', text: 'Wi-Fi' }), { type: 'ground', nodeId: '0.2.1', text: 'Wi-Fi' });
  });

  test('malformed ones are dropped', () => {
    for (const bad of [
      { type: 'find' },
      { type: 'find', phrase: '   ' },
      { type: 'find', phrase: 42 },
      { type: 'find', phrase: 'x'.repeat(501) },
      { type: 'ground', nodeId: '', text: 'Wi-Fi' },
      { type: 'ground', nodeId: 7, text: 'Wi-Fi' },
      { type: 'ground', nodeId: '1', text: '' },
      { type: 'ground', nodeId: 'x'.repeat(201), text: 'a' },
      { type: 'highlighted', box: null, source: 'tree' },
      [],
      null,
    ]) {
      assert.equal(parseFromWebview(bad), null, JSON.stringify(bad));
      assert.equal(parseFindFromWebview(bad), null, JSON.stringify(bad));
    }
  });
});
