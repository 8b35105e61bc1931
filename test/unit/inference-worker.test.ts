import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { preprocessImage } from '../../model-runtime/src/preprocess/index';
import { DEPLOT_PROMPT, widgetCaptioningInput } from '../../model-runtime/src/tasks/index';
import { InferenceClient } from '../../src/inference-client';
import { parseFromWebview } from '../../src/protocol/panel';
import { FIXTURE_ROOT, imagePath, MODEL_DIR, modelRef, tempDir } from '../helpers/fixture';

// The bundle the extension starts (npm run build), in a real worker thread.
const WORKER = path.resolve(__dirname, '../../dist/inference-worker.js');

describe('inference worker behind the typed protocol', () => {
  const client = new InferenceClient(WORKER);
  const graphCacheDir = tempDir('worker-graphs');
  const base = { task: 'describe' as const, modelPath: MODEL_DIR, maxPatches: 256, graphCacheDir, threads: 2, precision: 'fp32' as const };
  after(() => client.dispose());

  test('describes an image, streaming each token, with the reference ids', async () => {
    const ref = modelRef('chart');
    const streamed: number[] = [];
    const { done } = client.describe({ ...base, imagePath: imagePath('chart', 'plain'), maxNewTokens: ref.greedy_ids.length - 1 }, (_text, id) => streamed.push(id));
    const result = await done;
    assert.deepEqual(result.tokenIds, ref.greedy_ids);
    assert.deepEqual(streamed, ref.greedy_ids.slice(1));
    assert.equal(result.text, null);
    assert.equal(result.provider, 'cpu');
    assert.ok(result.timingsMs.encoder > 0 && result.timingsMs.decoder > 0);
  });

  test('Stop cancels within one decoding step and the worker keeps serving', async () => {
    let request: ReturnType<InferenceClient['describe']> | undefined;
    let seen = 0;
    request = client.describe({ ...base, imagePath: imagePath('ui', 'plain'), maxNewTokens: 200 }, () => {
      seen++;
      if (seen === 2) client.cancel(request!.id);
    });
    await assert.rejects(request.done, (err: Error & { code?: string }) => err.code === 'ABORTED');
    // Tokens already in flight when Stop is posted still arrive; the worker stops at its next step.
    assert.ok(seen < 10, `${seen} tokens arrived after Stop at 2 of 200`);
    const again = await client.describe({ ...base, imagePath: imagePath('ui', 'plain'), maxNewTokens: 3 }).done;
    assert.deepEqual(again.tokenIds, modelRef('ui').greedy_ids.slice(0, 4));
  });

  test('a non-image file and a missing model give clear errors and nothing hangs', async () => {
    await assert.rejects(client.describe({ ...base, imagePath: path.join(FIXTURE_ROOT, 'README.md') }).done, (err: Error & { code?: string }) => err.code === 'IMAGE_INVALID' && /README\.md: a text file, not an image/.test(err.message));
    await assert.rejects(client.describe({ ...base, modelPath: '/nonexistent/model', imagePath: imagePath('ui', 'plain') }).done, /model folder not found/);
  });

  test('widget and chart tasks feed the model the boxed image and the DePlot header', async () => {
    const model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir: graphCacheDir });
    try {
      const pixels = await decodeImage(imagePath('ui', 'plain'));
      // A large box: a 1-px outline must move enough patches to change this random model's output.
      const box = { x0: 8, y0: 30, x1: 350, y1: 700 };
      const expectWidget = await model.generate(await model.encode(await preprocessImage(widgetCaptioningInput(pixels, box), model.checkpoint.preprocessor, { maxPatches: 256 })), { maxNewTokens: 20 });
      const widget = await client.describe({ ...base, task: 'widget', box, imagePath: imagePath('ui', 'plain'), maxNewTokens: 20 }).done;
      assert.deepEqual(widget.tokenIds, expectWidget.tokenIds);
      assert.notDeepEqual(widget.tokenIds, modelRef('ui').greedy_ids, 'the box changes what the model sees');
      const expectTable = await model.generate(await model.encode(await preprocessImage(pixels, model.checkpoint.preprocessor, { maxPatches: 256, headerText: DEPLOT_PROMPT })), { maxNewTokens: 8 });
      const table = await client.describe({ ...base, task: 'table', imagePath: imagePath('ui', 'plain'), maxNewTokens: 8 }).done;
      assert.deepEqual(table.tokenIds, expectTable.tokenIds);
    } finally {
      await model.release();
    }
  });

  test('if the worker dies, pending requests are rejected instead of hanging', async () => {
    const doomed = new InferenceClient(WORKER);
    const { done } = doomed.describe({ ...base, imagePath: imagePath('photo', 'plain'), maxNewTokens: 200 }, () => void doomed.dispose());
    await assert.rejects(done, /shutting down|exited/);
  });
});

describe('webview messages are validated', () => {
  test('well-formed messages pass, everything else is dropped', () => {
    assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseFromWebview({ type: 'run', task: 'ask', question: '  total?  ' }), { type: 'run', task: 'ask', question: 'total?' });
    assert.deepEqual(parseFromWebview({ type: 'run', task: 'describe', question: 'ignored' }), { type: 'run', task: 'describe' });
    assert.deepEqual(parseFromWebview({ type: 'stop', runId: 3 }), { type: 'stop', runId: 3 });
    assert.deepEqual(parseFromWebview({ type: 'run', task: 'widget', box: { x0: 1, y0: 2, x1: 30, y1: 40 } }), { type: 'run', task: 'widget', box: { x0: 1, y0: 2, x1: 30, y1: 40 } });
    for (const bad of [null, 'ready', [], { type: 'run', task: 'rm -rf' }, { type: 'run', task: 'ask' }, { type: 'run', task: 'ask', question: '   ' }, { type: 'stop', runId: '1' }, { type: 'copy', text: 'x'.repeat(20_000) }, { type: 'eval', code: '1' }, { type: 'run', task: 'widget' }, { type: 'run', task: 'widget', box: { x0: 5, y0: 5, x1: 5, y1: 9 } }, { type: 'run', task: 'widget', box: { x0: -1, y0: 0, x1: 3, y1: 3 } }]) {
      assert.equal(parseFromWebview(bad), null, JSON.stringify(bad)?.slice(0, 60));
    }
  });
});
