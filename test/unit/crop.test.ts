import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { clampCropBox, cropImageFile, CropError, croppedFileName } from '../../src/crop';
import { FIXTURE_ROOT, tempDir } from '../helpers/fixture';

const CHART = path.join(FIXTURE_ROOT, 'images/chart_640x480.png');

describe('crop rectangle', () => {
  test('a box drawn past the edges keeps the part inside the image, in whole pixels', () => {
    assert.deepEqual(clampCropBox({ x0: 600, y0: 400, x1: 900, y1: 700 }, 640, 480), { x0: 600, y0: 400, x1: 640, y1: 480 });
    assert.deepEqual(clampCropBox({ x0: 10.4, y0: 20.6, x1: 30.5, y1: 40.49 }, 640, 480), { x0: 10, y0: 21, x1: 31, y1: 40 });
  });

  test('corners given in any order make the same rectangle', () => {
    assert.deepEqual(clampCropBox({ x0: 300, y0: 200, x1: 100, y1: 50 }, 640, 480), { x0: 100, y0: 50, x1: 300, y1: 200 });
  });

  test('a box outside the image, or thinner than a pixel, is an error that says why', () => {
    assert.throws(() => clampCropBox({ x0: 700, y0: 10, x1: 800, y1: 20 }, 640, 480), (e: unknown) => e instanceof CropError && /does not overlap the 640×480 image/.test(e.message));
    assert.throws(() => clampCropBox({ x0: 5, y0: 5, x1: 5.2, y1: 50 }, 640, 480), CropError);
  });

  test('the file name says where the crop came from and its size', () => {
    assert.equal(croppedFileName('/c/screenshot-1.png', { x0: 10, y0: 20, x1: 310, y1: 220 }), 'screenshot-1-crop-10-20-300x200.png');
  });
});

describe('cropping a file with sharp', () => {
  test('writes a PNG beside the original with exactly the pixels of the rectangle', async () => {
    const dir = tempDir('crop');
    const source = path.join(dir, 'chart.png');
    fs.copyFileSync(CHART, source);
    const box = { x0: 123, y0: 45, x1: 123 + 200, y1: 45 + 150 };
    const crop = await cropImageFile(source, box);
    assert.equal(path.dirname(crop.file), dir);
    assert.equal(path.basename(crop.file), 'chart-crop-123-45-200x150.png');
    assert.deepEqual(fs.readFileSync(source), fs.readFileSync(CHART), 'the original is untouched');

    const cropped = await sharp(crop.file).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([cropped.info.width, cropped.info.height], [200, 150]);
    const original = await sharp(CHART).raw().toBuffer({ resolveWithObject: true });
    const ch = original.info.channels;
    assert.equal(cropped.info.channels, ch);
    // Row by row, the crop is the original's rectangle.
    for (let y = 0; y < 150; y++) {
      const from = ((box.y0 + y) * original.info.width + box.x0) * ch;
      const want = original.data.subarray(from, from + 200 * ch);
      const got = cropped.data.subarray(y * 200 * ch, (y + 1) * 200 * ch);
      assert.ok(want.equals(got), `row ${y} differs`);
    }
  });

  test('a file that is not an image gives a CropError naming it', async () => {
    const dir = tempDir('crop');
    const bad = path.join(dir, 'notes.png');
    fs.writeFileSync(bad, 'not an image');
    await assert.rejects(cropImageFile(bad, { x0: 0, y0: 0, x1: 10, y1: 10 }), (e: unknown) => e instanceof CropError && /notes\.png/.test(e.message));
  });
});
