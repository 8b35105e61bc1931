import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { UsageError } from '../../model-runtime/src/errors';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { renderHeaderText, renderVqaHeader } from '../../model-runtime/src/preprocess/header';
import type { RgbImage } from '../../model-runtime/src/preprocess/rgb-image';
import {
  ai2dHeader,
  ai2dInput,
  drawBox,
  normalizedToPixelBox,
  pixelToNormalizedBox,
  refExpInputs,
  ricoBoundsToPixelBox,
  roundHalfEven,
  widgetCaptioningInput,
  type PixelBox,
} from '../../model-runtime/src/tasks';
import { FIXTURE_ROOT } from '../helpers/fixture';

const IMAGE_DIR = path.join(FIXTURE_ROOT, 'images');
const load = (name: string) => decodeImage(path.join(IMAGE_DIR, name));

type Px = [number, number, number];
const px = (img: RgbImage, x: number, y: number): Px => {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
};
const BLUE: Px = [0, 0, 255];
const isBlue = (p: Px) => p[0] === 0 && p[1] === 0 && p[2] === 255;

/** Pixels on the 1-pixel outline of an inclusive-exclusive box, written edge by edge. */
function onOutline(box: PixelBox, x: number, y: number): boolean {
  const inside = x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1;
  return inside && (x === box.x0 || x === box.x1 - 1 || y === box.y0 || y === box.y1 - 1);
}

/** Checks every pixel: outline pixels blue, all others byte-equal to the original. */
function assertOnlyOutline(original: RgbImage, drawn: RgbImage, box: PixelBox): number {
  assert.equal(drawn.width, original.width);
  assert.equal(drawn.height, original.height);
  let outline = 0;
  for (let y = 0; y < original.height; y++) {
    for (let x = 0; x < original.width; x++) {
      if (onOutline(box, x, y)) {
        outline++;
        assert.deepEqual(px(drawn, x, y), BLUE, `outline pixel (${x}, ${y})`);
      } else {
        assert.deepEqual(px(drawn, x, y), px(original, x, y), `pixel (${x}, ${y}) should be untouched`);
      }
    }
  }
  return outline;
}

describe('drawBox on the fixture screenshots', () => {
  test('1-pixel blue outline; interior, outside and the input image untouched', async () => {
    const ui = await load('ui_360x740.png');
    const before = Buffer.from(ui.data);
    const box = { x0: 40, y0: 100, x1: 200, y1: 160 };
    // The test means something only if the screenshot is not already blue there.
    let alreadyBlue = 0;
    for (let x = box.x0; x < box.x1; x++) if (isBlue(px(ui, x, box.y0))) alreadyBlue++;
    assert.ok(alreadyBlue < 10, 'fixture row is already blue');

    const out = drawBox(ui, box);
    assert.notEqual(out.data, ui.data);
    assert.ok(Buffer.from(ui.data).equals(before), 'drawBox modified its input');
    const outline = assertOnlyOutline(ui, out, box);
    assert.equal(outline, 2 * 160 + 2 * (60 - 2));
    // Spot checks in plain numbers: corners, an edge midpoint, just outside, just inside.
    assert.deepEqual(px(out, 40, 100), BLUE);
    assert.deepEqual(px(out, 199, 159), BLUE);
    assert.deepEqual(px(out, 40, 130), BLUE);
    assert.deepEqual(px(out, 200, 130), px(ui, 200, 130));
    assert.deepEqual(px(out, 41, 130), px(ui, 41, 130));
    assert.deepEqual(px(out, 120, 160), px(ui, 120, 160));
  });

  test('a wider line grows inwards and keeps the colour given', async () => {
    const chart = await load('chart_640x480.png');
    const box = { x0: 100, y0: 50, x1: 300, y1: 250 };
    const red: Px = [255, 0, 0];
    const out = drawBox(chart, box, { width: 3, color: red });
    for (const x of [100, 101, 102, 297, 298, 299]) assert.deepEqual(px(out, x, 150), red, `column ${x}`);
    for (const y of [50, 51, 52, 247, 248, 249]) assert.deepEqual(px(out, 200, y), red, `row ${y}`);
    for (const [x, y] of [[99, 150], [103, 150], [296, 150], [300, 150], [200, 49], [200, 53], [200, 250]] as const) {
      assert.deepEqual(px(out, x, y), px(chart, x, y), `(${x}, ${y}) should be untouched`);
    }
  });

  test('clips at the right and bottom edges: only the visible edges are drawn', async () => {
    const chart = await load('chart_640x480.png');
    const box = { x0: 600, y0: 450, x1: 700, y1: 520 };
    const out = drawBox(chart, box);
    assert.equal(assertOnlyOutline(chart, out, box), 40 + 30 - 1); // top row 600..639, left column 450..479
    assert.deepEqual(px(out, 639, 450), BLUE);
    assert.deepEqual(px(out, 600, 479), BLUE);
    assert.deepEqual(px(out, 639, 479), px(chart, 639, 479)); // inside: the right/bottom edges lie off-image
  });

  test('clips at the top and left edges (negative coordinates)', async () => {
    const photo = await load('photo_1000x300.png');
    const box = { x0: -10, y0: -5, x1: 20, y1: 30 };
    const out = drawBox(photo, box);
    assert.equal(assertOnlyOutline(photo, out, box), 20 + 30 - 1); // bottom row 0..19, right column 0..29
    assert.deepEqual(px(out, 0, 0), px(photo, 0, 0));
    assert.deepEqual(px(out, 19, 0), BLUE);
    assert.deepEqual(px(out, 0, 29), BLUE);
  });

  test('a box wholly outside the image gives an unchanged copy', async () => {
    const chart = await load('chart_640x480.png');
    const out = drawBox(chart, { x0: 700, y0: 10, x1: 800, y1: 20 });
    assert.notEqual(out.data, chart.data);
    assert.ok(Buffer.from(out.data).equals(Buffer.from(chart.data)));
  });

  test('invalid boxes and options fail with a clear error', () => {
    const img: RgbImage = { width: 4, height: 4, data: new Uint8Array(48) };
    const cases: [PixelBox, object, RegExp][] = [
      [{ x0: 3, y0: 0, x1: 3, y1: 2 }, {}, /x0 < x1 and y0 < y1/],
      [{ x0: 0, y0: 3, x1: 2, y1: 1 }, {}, /x0 < x1 and y0 < y1/],
      [{ x0: 0.5, y0: 0, x1: 2, y1: 2 }, {}, /box x0 must be a whole number/],
      [{ x0: 0, y0: Number.NaN, x1: 2, y1: 2 }, {}, /box y0 must be a whole number/],
      [{ x0: 0, y0: 0, x1: 2, y1: 2 }, { width: 0 }, /line width/],
      [{ x0: 0, y0: 0, x1: 2, y1: 2 }, { color: [0, 0, 256] }, /three integers in 0\.\.255/],
    ];
    for (const [box, options, message] of cases) {
      assert.throws(() => drawBox(img, box, options), (err: unknown) => err instanceof UsageError && message.test(err.message));
    }
    assert.throws(() => drawBox({ width: 4, height: 4, data: new Uint8Array(47) }, { x0: 0, y0: 0, x1: 1, y1: 1 }), /47 bytes/);
  });
});

describe('box coordinates as the converters computed them', () => {
  test('roundHalfEven is Python 3 round()', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, 7.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 4, 8, 0, -2, 2, 3]);
  });

  test('normalizedToPixelBox: round(fraction * size) per corner, PIL-inclusive far corner', () => {
    // 0.25 * 10 = 2.5 rounds to 2 and 0.75 * 10 = 7.5 to 8 (half to even), then +1 for the exclusive end.
    assert.deepEqual(normalizedToPixelBox({ x0: 0.25, y0: 0.35, x1: 0.75, y1: 0.45 }, 10, 10), { x0: 2, y0: 4, x1: 9, y1: 5 });
    assert.deepEqual(normalizedToPixelBox({ x0: 0, y0: 0, x1: 1, y1: 1 }, 360, 740), { x0: 0, y0: 0, x1: 361, y1: 741 });
    const box = { x0: 17, y0: 230, x1: 301, y1: 415 };
    assert.deepEqual(normalizedToPixelBox(pixelToNormalizedBox(box, 360, 740), 360, 740), box);
    assert.throws(() => normalizedToPixelBox({ x0: 0.2, y0: 0, x1: 1.2, y1: 1 }, 10, 10), /x1 must lie in 0\.\.1/);
    assert.throws(() => normalizedToPixelBox({ x0: 0.6, y0: 0, x1: 0.2, y1: 1 }, 10, 10), /x0 <= x1/);
  });

  test('ricoBoundsToPixelBox: canvas units scaled by height / 2560 and truncated', () => {
    // A 1080x1920 RICO screenshot: scale 0.75; 63 -> 47.25 -> 47, 231 -> 173.25 -> 173.
    assert.deepEqual(ricoBoundsToPixelBox([0, 63, 1440, 231], 1920), { x0: 0, y0: 47, x1: 1081, y1: 174 });
    assert.deepEqual(ricoBoundsToPixelBox([101, 999, 102, 1001], 740), { x0: 29, y0: 288, x1: 30, y1: 290 });
    assert.throws(() => ricoBoundsToPixelBox([500, 0, 100, 10], 1920), /x0 <= x1/);
  });

  describe('byte parity with PIL as the converters called it (live)', () => {
    const python = process.env.PIX2STRUCT_PYREF_PYTHON ?? path.resolve(__dirname, '../../.cache/pyref/bin/python');
    const skip = fs.existsSync(python) ? false : `Python reference not found at ${python} (set PIX2STRUCT_PYREF_PYTHON); CI has it`;
    const file = path.join(IMAGE_DIR, 'ui_360x740.png');

    /** Indices of the pixels PIL changed, for each box drawn with `expr` giving PIL's corners. */
    const pilChanges = (boxes: number[][], corners: string): number[][] => {
      const script = [
        'import json, sys, numpy as np',
        'from PIL import Image, ImageDraw',
        "img = Image.open(sys.argv[1]).convert('RGB'); base = np.asarray(img); H, W = base.shape[:2]",
        'out = []',
        'for b in json.load(sys.stdin):',
        `    xmin, ymin, xmax, ymax = ${corners}`,
        '    im = img.copy()',
        // Exactly the converters' call: corners given bottom-left/top-right, transparent fill.
        "    ImageDraw.Draw(im, 'RGBA').rectangle(xy=((xmin, ymax), (xmax, ymin)), fill=(0, 0, 255, 0), outline=(0, 0, 255, 255))",
        '    changed = np.argwhere((np.asarray(im) != base).any(-1))',
        '    out.append(sorted(int(y * W + x) for y, x in changed))',
        'json.dump(out, sys.stdout)',
      ].join('\n');
      return JSON.parse(execFileSync(python, ['-c', script, file], { input: JSON.stringify(boxes), encoding: 'utf8', maxBuffer: 1 << 26 }));
    };
    const changes = (a: RgbImage, b: RgbImage): number[] => {
      const out: number[] = [];
      for (let p = 0; p < a.width * a.height; p++) {
        if (a.data[3 * p] !== b.data[3 * p] || a.data[3 * p + 1] !== b.data[3 * p + 1] || a.data[3 * p + 2] !== b.data[3 * p + 2]) out.push(p);
      }
      return out;
    };

    test('RefExp: normalised float32 boxes, round() corners', { skip }, async () => {
      const ui = await load('ui_360x740.png');
      // Includes .5 rounding cases (0.125 * 360 = 45 exactly; 0.5 / 740 steps), 1- and 2-pixel
      // boxes and the full image. Not a zero-size box: PIL 9.4 draws two pixels for that one.
      const boxes = [
        [0.1, 0.2, 0.55, 0.31],
        [0.125, 0.0006756756756756757, 0.9375, 0.5],
        [0, 0, 1, 1],
        [0.3, 0.3, 0.3 + 1 / 360, 0.3 + 1 / 740],
        [0.62, 0.91, 0.99, 0.97],
        [0.0013888889, 0.4, 0.0041666667, 0.95],
      ].map((b) => b.map(Math.fround));
      const expected = pilChanges(boxes, 'round(b[0] * W), round(b[1] * H), round(b[2] * W), round(b[3] * H)');
      boxes.forEach((b, i) => {
        const drawn = drawBox(ui, normalizedToPixelBox({ x0: b[0]!, y0: b[1]!, x1: b[2]!, y1: b[3]! }, ui.width, ui.height));
        assert.deepEqual(changes(ui, drawn), expected[i], `box ${b.join(', ')}`);
      });
    });

    test('Widget Captioning: RICO bounds, truncated float corners', { skip }, async () => {
      const ui = await load('ui_360x740.png');
      const bounds = [
        [0, 63, 1440, 231],
        [101.5, 999.9, 1300.2, 1187.1],
        [-40, 2400, 500, 2700],
        [700, 1200, 704, 1203],
      ];
      const expected = pilChanges(bounds, 'map(lambda v: v * H / 2560, b)');
      bounds.forEach((b, i) => {
        const drawn = widgetCaptioningInput(ui, ricoBoundsToPixelBox(b as [number, number, number, number], ui.height));
        assert.deepEqual(changes(ui, drawn), expected[i], `bounds ${b.join(', ')}`);
      });
    });
  });
});

describe('RefExp and AI2D inputs: header stacked above the boxed screenshot', () => {
  test('header narrower than the image: the box sits exactly header-height lower', async () => {
    const photo = await load('photo_1000x300.png');
    const expression = 'the red button';
    const header = await renderHeaderText(expression);
    assert.ok(header.width < photo.width, 'precondition: header narrower than the photo, so the photo is not resized');
    const boxes = [
      { x0: 50, y0: 40, x1: 250, y1: 120 },
      { x0: 600, y0: 150, x1: 900, y1: 290 },
    ];
    const inputs = await refExpInputs(photo, expression, boxes);
    assert.equal(inputs.length, 2);
    // The header is scaled up to the photo's width: height int(h * 1000 / w).
    const headerHeight = Math.trunc(header.height * (photo.width / header.width));
    for (const [k, input] of inputs.entries()) {
      const box = boxes[k]!;
      assert.equal(input.width, photo.width);
      assert.equal(input.height, headerHeight + photo.height);
      // Every pixel of the photo part: outline blue, the rest the photo's own.
      const photoPart: RgbImage = { width: photo.width, height: photo.height, data: input.data.subarray(headerHeight * photo.width * 3) };
      assertOnlyOutline(photo, photoPart, box);
      // The same pixels in stacked coordinates: shifted down by the header height...
      assert.deepEqual(px(input, box.x0, box.y0 + headerHeight), BLUE);
      assert.deepEqual(px(input, box.x1 - 1, box.y1 - 1 + headerHeight), BLUE);
      assert.deepEqual(px(input, (box.x0 + box.x1) >> 1, box.y0 + headerHeight), BLUE);
      // ...and not at the unshifted position.
      assert.notDeepEqual(px(input, (box.x0 + box.x1) >> 1, box.y0), BLUE);
    }
    // Candidates differ only below the header.
    const headerBytes = headerHeight * photo.width * 3;
    assert.ok(Buffer.from(inputs[0]!.data.subarray(0, headerBytes)).equals(Buffer.from(inputs[1]!.data.subarray(0, headerBytes))));
    assert.ok(!Buffer.from(inputs[0]!.data).equals(Buffer.from(inputs[1]!.data)));
  });

  test('header wider than the screenshot: the box is resized with it and stays visibly blue', async () => {
    const ui = await load('ui_360x740.png');
    const expression = 'settings icon at the top right of the screen';
    const header = await renderHeaderText(expression);
    assert.ok(header.width > ui.width, 'precondition: header wider than the screenshot');
    const box = { x0: 60, y0: 300, x1: 300, y1: 420 };
    const [input] = await refExpInputs(ui, expression, [box]);
    const scale = header.width / ui.width;
    const imageHeight = Math.trunc(ui.height * scale);
    assert.equal(input!.width, header.width);
    const top = input!.height - imageHeight;
    assert.equal(top, header.height); // the header keeps its size, the screenshot is scaled up
    const blueish = (p: Px) => p[2] - Math.max(p[0], p[1]) > 60;
    // Along the top edge (scaled), some pixel within a pixel of the line is strongly blue.
    const lineRow = top + box.y0 * scale;
    for (const fx of [0.2, 0.5, 0.8]) {
      const x = Math.round((box.x0 + fx * (box.x1 - box.x0)) * scale);
      const rows = [Math.floor(lineRow) - 1, Math.floor(lineRow), Math.ceil(lineRow), Math.ceil(lineRow) + 1];
      assert.ok(rows.some((y) => blueish(px(input!, x, y))), `no blue near (${x}, ${lineRow.toFixed(1)})`);
      // The original screenshot is not blue there: the blue comes from the box.
      assert.ok(!blueish(px(ui, Math.round(box.x0 + fx * (box.x1 - box.x0)), box.y0 - 3)));
    }
  });

  test('AI2D input is the VQA header of the lettered options', async () => {
    const chart = await load('chart_640x480.png');
    const question = 'Which stage comes after the larva?';
    const options = ['egg', 'pupa', 'adult'];
    const got = await ai2dInput(chart, question, options);
    const expected = await renderVqaHeader(chart, 'Which stage comes after the larva? (a) egg (b) pupa (c) adult');
    assert.equal(ai2dHeader(question, options), 'Which stage comes after the larva? (a) egg (b) pupa (c) adult');
    assert.deepEqual([got.width, got.height], [expected.width, expected.height]);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(expected.data)));
  });
});
