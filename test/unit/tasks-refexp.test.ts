import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { logSoftmax } from '../../model-runtime/src/generation/logits';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { preprocessImage } from '../../model-runtime/src/preprocess/index';
import type { RgbImage } from '../../model-runtime/src/preprocess/rgb-image';
import { findElement, refExpInputs, type PixelBox } from '../../model-runtime/src/tasks/index';
import { imagePath, MODEL_DIR, tempDir } from '../helpers/fixture';

describe('RefExp end to end on the fixture model', () => {
  let model: Pix2StructModel;
  let screenshot: RgbImage;
  const candidates: PixelBox[] = [
    { x0: 10, y0: 20, x1: 120, y1: 60 },
    { x0: 200, y0: 300, x1: 350, y1: 420 },
    { x0: 0, y0: 600, x1: 360, y1: 740 },
    { x0: 150, y0: 100, x1: 160, y1: 110 },
    { x0: 40, y0: 500, x1: 300, y1: 520 },
  ];
  // The fixture has no tokenizer: any two ids stand in for "true" and "false".
  const trueTokenId = 33360;
  const falseTokenId = 42713;
  const expression = 'the settings button';

  before(async () => {
    model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir: tempDir('refexp-graphs') });
    screenshot = await decodeImage(imagePath('ui', 'plain'));
  });
  after(() => model?.release());

  test('batched scoring ranks candidates exactly as scoring each input on its own', async () => {
    const ranked = await findElement(model, screenshot, expression, candidates, { trueTokenId, falseTokenId, maxPatches: 256, batchSize: 2 });
    // Independent path: each candidate input through the full decoder forward, one at a time.
    const inputs = await refExpInputs(screenshot, expression, candidates);
    const expected: { candidate: number; pTrue: number }[] = [];
    for (const [candidate, input] of inputs.entries()) {
      const encoding = await model.encode(await preprocessImage(input, model.checkpoint.preprocessor, { maxPatches: 256 }));
      const lp = logSoftmax(await model.decoderFor(encoding).forward([[0]]));
      const t = Math.exp(lp[trueTokenId]!);
      const f = Math.exp(lp[falseTokenId]!);
      expected.push({ candidate, pTrue: t / (t + f) });
    }
    expected.sort((a, b) => b.pTrue - a.pTrue);
    assert.deepEqual(ranked.map((r) => r.candidate), expected.map((e) => e.candidate));
    ranked.forEach((r, i) => assert.ok(Math.abs(r.pTrue - expected[i]!.pTrue) < 1e-5));
    assert.ok(new Set(ranked.map((r) => r.pTrue.toFixed(6))).size > 1, 'candidates get different scores: the box reaches the model');
  });
});
