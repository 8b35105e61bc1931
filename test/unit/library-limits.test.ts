import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { UsageError } from '../../model-runtime/src/errors';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { extractFlattenedPatches } from '../../model-runtime/src/preprocess/patches';
import { MODEL_DIR, referenceInputs, tempDir } from '../helpers/fixture';

// Callers of the library (the extension's settings, batch items) meet the bounds the CLI's flags
// and the configs meet, before anything is allocated for them.
const pixel = { width: 2, height: 2, data: new Uint8Array(12).fill(128) };

test('max patches beyond 65536 is refused before the patch buffer is allocated', () => {
  assert.throws(() => extractFlattenedPatches(pixel, { maxPatches: 1e9, patchHeight: 16, patchWidth: 16, normalize: true }), (err: unknown) => err instanceof UsageError && /max patches 1000000000 is over the limit of 65536/.test((err as Error).message));
  assert.equal(extractFlattenedPatches(pixel, { maxPatches: 4, patchHeight: 16, patchWidth: 16, normalize: true }).maxPatches, 4);
});

let model: Pix2StructModel | undefined;
after(() => model?.release());

test('max new tokens beyond 65536 is refused before decoding starts', async () => {
  model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir: tempDir('limits-graphs') });
  const encoding = await model.encode(referenceInputs('chart'));
  await assert.rejects(model.generate(encoding, { maxNewTokens: 1e9 }), (err: unknown) => err instanceof UsageError && /max new tokens 1000000000 is over the limit of 65536/.test((err as Error).message));
});
