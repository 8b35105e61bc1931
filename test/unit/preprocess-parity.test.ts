import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { extractFlattenedPatches } from '../../model-runtime/src/preprocess/patches';
import { IMAGES, imagePath, index, maxAbsDiff, preprocessCases, readReference } from '../helpers/fixture';

// The fixture README: 1e-5 holds when resize weights are computed in float32 like torch.
const PATCH_ATOL = 1e-5;

describe('preprocessing parity with Pix2StructImageProcessor', () => {
  for (const image of IMAGES) {
    for (const kind of ['plain', 'vqa'] as const) {
      for (const [maxPatches, rec] of preprocessCases(image, kind)) {
        test(`${image} ${kind} max_patches=${maxPatches}`, async () => {
          const pixels = await decodeImage(imagePath(image, kind));
          const got = extractFlattenedPatches(pixels, { maxPatches, patchHeight: 16, patchWidth: 16, normalize: true });
          const g = rec.geometry;
          assert.deepEqual(
            { rows: got.rows, cols: got.cols, h: got.resizedHeight, w: got.resizedWidth, n: got.numPatches },
            { rows: g.rows, cols: g.cols, h: g.resized_h, w: g.resized_w, n: g.num_patches },
          );
          const expected = readReference(rec.flattened_patches);
          const diff = maxAbsDiff(got.flattenedPatches, expected);
          assert.ok(diff <= PATCH_ATOL, `flattened_patches max diff ${diff}`);
          assert.deepEqual(Array.from(got.attentionMask), Array.from(readReference(rec.attention_mask)));
        });
      }
    }
  }

  test('the fixture covers every image at 64, 256 and 2048 patches', () => {
    for (const image of IMAGES) assert.ok(preprocessCases(image, 'plain').length === 3 && index.preprocess[image].vqa);
  });
});
