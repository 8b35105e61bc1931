import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import * as esbuild from 'esbuild';
import sharp from 'sharp';
import { headerFontPath, renderHeaderText, renderVqaHeader, stackHeader, wrapHeaderText } from '../../model-runtime/src/preprocess/header';
import { resizePilBicubic } from '../../model-runtime/src/preprocess/pil-resize';
import type { RgbImage } from '../../model-runtime/src/preprocess/rgb-image';
import { FIXTURE_ROOT, IMAGES, index, tempDir } from '../helpers/fixture';

/*
 * Parity of the VQA header with transformers' render_text / render_header (PIL 9.4).
 * The resize and the stacking are exact; the text pixels come from librsvg instead of
 * FreeType, so they are compared with bounds measured when this was written (mean abs
 * diff 0.113 grey levels per channel, worst pixel 16, ink IoU 0.997 on the fixture text).
 */

// Bounds with headroom over the measured values, tight enough to catch a misplaced or
// mis-hinted glyph (one glyph shifted by a pixel already costs about 0.1 in the mean).
const MAX_MEAN_ABS_DIFF = 0.25;
const MAX_PIXEL_DIFF = 64;
const MIN_INK_IOU = 0.99;
/** A pixel is ink when darker than mid grey. */
const INK_THRESHOLD = 128;

const HEADER_ONLY = path.join(FIXTURE_ROOT, 'images/vqa_header_only.png');
const headerText: string = index.generator.header_text;

async function loadRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3, `${file} should decode to RGB`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function vqaRecord(image: (typeof IMAGES)[number]): { image: string; rendered: string; renderedHw: [number, number]; headerWh: [number, number] } {
  const rec = index.preprocess[image];
  return {
    image: path.join(FIXTURE_ROOT, rec.image),
    rendered: path.join(FIXTURE_ROOT, rec.vqa.rendered_image),
    renderedHw: rec.vqa.rendered_size_hw,
    headerWh: rec.vqa.header_only_size_wh,
  };
}

/** Mean and worst absolute difference over all bytes, and the IoU of the two ink masks. */
function compareText(got: RgbImage, expected: RgbImage): { meanAbsDiff: number; maxDiff: number; inkIou: number } {
  assert.deepEqual([got.width, got.height], [expected.width, expected.height]);
  let sum = 0;
  let maxDiff = 0;
  for (let i = 0; i < got.data.length; i++) {
    const d = Math.abs(got.data[i]! - expected.data[i]!);
    sum += d;
    maxDiff = Math.max(maxDiff, d);
  }
  let both = 0;
  let either = 0;
  for (let p = 0; p < got.width * got.height; p++) {
    const a = luma(got, p) < INK_THRESHOLD;
    const b = luma(expected, p) < INK_THRESHOLD;
    if (a && b) both++;
    if (a || b) either++;
  }
  return { meanAbsDiff: sum / got.data.length, maxDiff, inkIou: either === 0 ? 1 : both / either };
}

function luma(image: RgbImage, p: number): number {
  return (image.data[p * 3]! + image.data[p * 3 + 1]! + image.data[p * 3 + 2]!) / 3;
}

function rows(image: RgbImage, from: number, to: number): RgbImage {
  return { width: image.width, height: to - from, data: image.data.subarray(from * image.width * 3, to * image.width * 3) };
}

function assertSameBytes(got: RgbImage, expected: RgbImage, label: string): void {
  assert.deepEqual([got.width, got.height], [expected.width, expected.height], `${label} size`);
  let differing = 0;
  for (let i = 0; i < got.data.length; i++) if (got.data[i] !== expected.data[i]) differing++;
  assert.equal(differing, 0, `${label}: ${differing} bytes differ from PIL`);
}

describe('PIL BICUBIC resize and header stacking', () => {
  for (const image of IMAGES) {
    test(`stacking the fixture header on ${image} reproduces vqa_rendered_${image}.png byte for byte`, async () => {
      const rec = vqaRecord(image);
      const stacked = stackHeader(await loadRgb(HEADER_ONLY), await loadRgb(rec.image));
      assertSameBytes(stacked, await loadRgb(rec.rendered), `vqa_rendered_${image}`);
    });
  }

  test('resizing to the same size is a copy, not a blur', async () => {
    const header = await loadRgb(HEADER_ONLY);
    const same = resizePilBicubic(header, header.width, header.height);
    assert.notEqual(same.data, header.data);
    assert.deepEqual(same.data, header.data);
  });

  test('invalid target sizes are refused', async () => {
    const header = await loadRgb(HEADER_ONLY);
    assert.throws(() => resizePilBicubic(header, 0, 10), RangeError);
    assert.throws(() => resizePilBicubic(header, 10.5, 10), RangeError);
  });
});

describe('header text rendering', () => {
  test('the fixture question renders at PIL size with nearly the same pixels', async () => {
    const expectedWh = vqaRecord('chart').headerWh;
    for (const image of IMAGES) assert.deepEqual(vqaRecord(image).headerWh, expectedWh);
    const got = await renderHeaderText(headerText);
    assert.deepEqual([got.width, got.height], expectedWh);
    const m = compareText(got, await loadRgb(HEADER_ONLY));
    const figures = `mean abs diff ${m.meanAbsDiff.toFixed(4)}, max ${m.maxDiff}, ink IoU ${m.inkIou.toFixed(4)}`;
    assert.ok(m.meanAbsDiff <= MAX_MEAN_ABS_DIFF, figures);
    assert.ok(m.maxDiff <= MAX_PIXEL_DIFF, figures);
    assert.ok(m.inkIou >= MIN_INK_IOU, figures);
  });

  for (const image of IMAGES) {
    test(`renderVqaHeader on ${image} has the reference size, and its image part is exact`, async () => {
      const rec = vqaRecord(image);
      const got = await renderVqaHeader(await loadRgb(rec.image), headerText);
      assert.deepEqual([got.height, got.width], rec.renderedHw);
      const expected = await loadRgb(rec.rendered);
      // Below the header only the resize is involved, so those rows must match exactly.
      // The header's share of the rows, by render_header's own formula.
      const headerRows = Math.trunc(rec.headerWh[1] * (rec.renderedHw[1] / rec.headerWh[0]));
      assertSameBytes(rows(got, headerRows, got.height), rows(expected, headerRows, expected.height), `${image} image part`);
      const m = compareText(rows(got, 0, headerRows), rows(expected, 0, headerRows));
      assert.ok(m.meanAbsDiff <= MAX_MEAN_ABS_DIFF && m.inkIou >= MIN_INK_IOU, `${image} header part: ${JSON.stringify(m)}`);
    });
  }

  test('the bundled font is found next to the sources', () => {
    assert.equal(headerFontPath(), path.resolve(__dirname, '../../model-runtime/assets/fonts/LiberationSans-Regular.ttf'));
  });

  test('the font is found in dist/assets/fonts when bundled, and a missing font names both places', async () => {
    const dir = tempDir('header-bundle');
    try {
      const bundle = path.join(dir, 'cli.js');
      await esbuild.build({
        entryPoints: [path.resolve(__dirname, '../../model-runtime/src/preprocess/header.ts')],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        // The bundle lives outside the repo, so point it at this checkout's native sharp.
        plugins: [{ name: 'local-sharp', setup: (b) => b.onResolve({ filter: /^sharp$/ }, () => ({ path: require.resolve('sharp'), external: true })) }],
        logLevel: 'silent',
      });
      const load = (): { headerFontPath(): string } => {
        delete require.cache[require.resolve(bundle)];
        return require(bundle);
      };
      assert.throws(() => load().headerFontPath(), (err: Error) => err.message.includes(path.join(dir, 'assets/fonts')) && err.message.includes(path.join(dir, '../../assets/fonts')));
      fs.cpSync(path.resolve(__dirname, '../../model-runtime/assets'), path.join(dir, 'assets'), { recursive: true });
      assert.equal(load().headerFontPath(), path.join(dir, 'assets/fonts/LiberationSans-Regular.ttf'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wrapping and measuring against Python (live)', () => {
  const python = process.env.PIX2STRUCT_PYREF_PYTHON ?? path.resolve(__dirname, '../../.cache/pyref/bin/python');
  const skip = fs.existsSync(python) ? false : `Python reference not found at ${python} (set PIX2STRUCT_PYREF_PYTHON); CI has it`;

  // Short, wrapping to two and three lines, punctuation and the textwrap corner cases
  // (hyphens, "--" dashes, words longer than a line, tabs, newlines, non-ASCII).
  const texts = [
    'Yes?',
    'AV To Ty, "quoted"; (parens) [brackets] {braces} 100% $5 #1 @home ~ ^ ` | \\ / j_q,',
    'What is the value of the highest bar in the chart, and which year does it correspond to? Answer briefly.',
    'Which category has the lowest share in 2019, and by how many percentage points did it change relative to 2018? Give the category name, the change, and the direction of the change.',
    'well-known state-of-the-art e-mail x-1 a-b-c-d--e foo--bar -- dash it\'s ' + 'ab-cd-'.repeat(20) + 'end',
    'word ' + 'b'.repeat(85) + ' end ' + 'x'.repeat(77) + '-abcdefghijkl-more',
    'tab\there\tand\nnewline\r\nand  double  spaces   ',
    'Zürich café naïve — “smart quotes” … €100 ½ ♫',
    '',
  ];

  const reference = (): { lines: string[]; size: [number, number] }[] => {
    // transformers' render_text measurement, forced onto PIL's basic layout (see header.ts).
    const script = [
      'import json, sys, textwrap',
      'from PIL import Image, ImageDraw, ImageFont',
      "font = ImageFont.truetype(sys.argv[1], encoding='UTF-8', size=36, layout_engine=ImageFont.Layout.BASIC)",
      "draw = ImageDraw.Draw(Image.new('RGB', (1, 1), 'white'))",
      'out = []',
      'for text in json.load(sys.stdin):',
      '    lines = textwrap.TextWrapper(width=80).wrap(text=text)',
      "    _, _, w, h = draw.textbbox((0, 0), '\\n'.join(lines), font)",
      "    out.append({'lines': lines, 'size': [w + 10, h + 10]})",
      'json.dump(out, sys.stdout)',
    ].join('\n');
    return JSON.parse(execFileSync(python, ['-c', script, headerFontPath()], { input: JSON.stringify(texts), encoding: 'utf8' }));
  };

  test('wrapHeaderText splits lines exactly like textwrap.TextWrapper(width=80)', { skip }, () => {
    const ref = reference();
    texts.forEach((text, i) => assert.deepEqual(wrapHeaderText(text), ref[i]!.lines, JSON.stringify(text)));
    assert.ok(ref.some((r) => r.lines.length === 2) && ref.some((r) => r.lines.length === 3), 'texts should cover 2- and 3-line wraps');
  });

  test('renderHeaderText canvas sizes equal PIL textbbox + padding', { skip }, async () => {
    const ref = reference();
    for (const [i, text] of texts.entries()) {
      const got = await renderHeaderText(text);
      assert.deepEqual([got.width, got.height], ref[i]!.size, JSON.stringify(text));
    }
  });

  test('wrapped lines never exceed 80 characters and keep every word (no Python needed)', () => {
    for (const text of texts) {
      const lines = wrapHeaderText(text);
      for (const line of lines) assert.ok(Array.from(line).length <= 80, line);
      assert.equal(lines.join('').replace(/\s/g, ''), text.replace(/\s/g, ''));
    }
  });
});
