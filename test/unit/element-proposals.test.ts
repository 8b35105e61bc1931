import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import opentype from 'opentype.js';
import sharp from 'sharp';
import { headerFontPath } from '../../model-runtime/src/preprocess/header-text';
import type { RgbImage } from '../../model-runtime/src/preprocess/rgb-image';
import type { PixelBox } from '../../model-runtime/src/tasks/boxes';
import { boxIoU, proposeElements } from '../../model-runtime/src/tasks/element-proposals';

// A settings-like phone screen drawn as SVG. Text is drawn as glyph outlines from the bundled
// font, so the picture does not depend on the fonts installed on the machine.
const WIDTH = 480;
const HEIGHT = 800;
const BACKGROUND = '#f7f7f7';
const bytes = fs.readFileSync(headerFontPath());
const font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
const text = (s: string, x: number, y: number, size: number, fill: string) => `<path d="${font.getPath(s, x, y, size).toPathData(2)}" fill="${fill}"/>`;

/** Each element is an SVG fragment; the ones marked `known` are what a user could refer to. */
const ELEMENTS: { name: string; svg: string; known: boolean }[] = [
  // App bar across the whole width: it touches the image border, so only its contents count.
  { name: 'app bar', svg: '<rect x="0" y="0" width="480" height="64" fill="#1565c0"/>', known: false },
  { name: 'title', svg: text('Settings', 64, 42, 22, '#ffffff'), known: true },
  { name: 'back icon', svg: '<path d="M30 20 L18 32 L30 44" stroke="#ffffff" stroke-width="3" fill="none"/>', known: true },
  { name: 'search icon', svg: '<circle cx="436" cy="30" r="9" stroke="#ffffff" stroke-width="3" fill="none"/><line x1="443" y1="37" x2="452" y2="46" stroke="#ffffff" stroke-width="3"/>', known: true },
  { name: 'search field', svg: `<rect x="24" y="88" width="432" height="44" rx="6" fill="#ffffff" stroke="#9e9e9e" stroke-width="1.5"/>${text('Search settings', 44, 116, 16, '#9e9e9e')}`, known: true },
  { name: 'wifi label', svg: text('Wi-Fi network', 72, 182, 18, '#212121'), known: true },
  { name: 'wifi icon', svg: '<circle cx="40" cy="176" r="14" fill="#43a047"/>', known: true },
  { name: 'wifi toggle', svg: '<rect x="392" y="164" width="52" height="26" rx="13" fill="#90caf9"/><circle cx="431" cy="177" r="11" fill="#1e88e5"/>', known: true },
  { name: 'bluetooth label', svg: text('Bluetooth', 72, 242, 18, '#212121'), known: true },
  { name: 'bluetooth value', svg: text('Off', 404, 242, 16, '#757575'), known: true },
  { name: 'divider', svg: '<rect x="24" y="268" width="432" height="1" fill="#e0e0e0"/>', known: false },
  { name: 'section text', svg: text('Keep your device up to date', 24, 316, 16, '#424242'), known: true },
  { name: 'section text 2', svg: text('with the latest security fixes.', 24, 340, 16, '#424242'), known: true },
  { name: 'update button', svg: `<rect x="24" y="380" width="200" height="48" rx="8" fill="#1e88e5"/>${text('Check now', 74, 411, 18, '#ffffff')}`, known: true },
  { name: 'cancel button', svg: `<rect x="256" y="380" width="200" height="48" rx="8" fill="#ffffff" stroke="#1e88e5" stroke-width="2"/>${text('Later', 330, 411, 18, '#1e88e5')}`, known: true },
  { name: 'avatar', svg: '<rect x="24" y="480" width="96" height="96" fill="#ffb74d"/><circle cx="72" cy="516" r="18" fill="#ef6c00"/>', known: true },
  { name: 'account name', svg: text('Alex Morgan', 144, 516, 20, '#212121'), known: true },
  { name: 'account mail', svg: text('alex@example.com', 144, 548, 15, '#616161'), known: true },
  { name: 'checkbox', svg: '<rect x="24" y="632" width="22" height="22" rx="3" fill="none" stroke="#616161" stroke-width="2"/>', known: true },
  { name: 'checkbox label', svg: text('Send usage statistics', 64, 650, 17, '#212121'), known: true },
  { name: 'fab', svg: '<circle cx="420" cy="730" r="28" fill="#d81b60"/><path d="M420 716 V744 M406 730 H434" stroke="#ffffff" stroke-width="4"/>', known: true },
];

function svg(fragments: string[], scale = 1): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH * scale}" height="${HEIGHT * scale}" viewBox="0 0 ${WIDTH} ${HEIGHT}">` +
      `<rect width="${WIDTH}" height="${HEIGHT}" fill="${BACKGROUND}"/>${fragments.join('')}</svg>`,
  );
}

async function render(source: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(source, { limitInputPixels: false }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Ground truth: where the element visibly changes the picture, drawn over what lies under it
 * (the app bar for the bar's contents) and compared with that backdrop alone.
 */
async function extent(fragment: string, scale = 1): Promise<PixelBox> {
  const backdrop = fragment === ELEMENTS[0]!.svg || !ELEMENTS.slice(1, 4).some((e) => e.svg === fragment) ? [] : [ELEMENTS[0]!.svg];
  const image = await render(svg([...backdrop, fragment], scale));
  const under = await render(svg(backdrop, scale));
  const box = { x0: image.width, y0: image.height, x1: 0, y1: 0 };
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 3;
      const d = Math.max(Math.abs(image.data[i]! - under.data[i]!), Math.abs(image.data[i + 1]! - under.data[i + 1]!), Math.abs(image.data[i + 2]! - under.data[i + 2]!));
      if (d < 24) continue;
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x + 1);
      box.y1 = Math.max(box.y1, y + 1);
    }
  }
  assert.ok(box.x1 > box.x0, 'the element drew nothing');
  return box;
}

async function checkCoverage(scale: number, options = {}) {
  const image = await render(svg(ELEMENTS.map((e) => e.svg), scale));
  const proposals = await proposeElements(image, options);
  const misses: string[] = [];
  for (const element of ELEMENTS.filter((e) => e.known)) {
    // Vector art: the extent at a larger scale is the 1x extent scaled (to a pixel or so).
    const one = await extent(element.svg, 1);
    const truth = { x0: one.x0 * scale, y0: one.y0 * scale, x1: one.x1 * scale, y1: one.y1 * scale };
    const best = Math.max(0, ...proposals.map((p) => boxIoU(p, truth)));
    if (best < 0.7) misses.push(`${element.name} ${JSON.stringify(truth)}: best IoU ${best.toFixed(2)}`);
  }
  assert.deepEqual(misses, [], `elements without a proposal (of ${proposals.length}): ${JSON.stringify(proposals)}`);
  for (const p of proposals) {
    assert.ok(p.x0 >= 0 && p.y0 >= 0 && p.x1 <= image.width && p.y1 <= image.height && p.x1 > p.x0 && p.y1 > p.y0, `box outside the image: ${JSON.stringify(p)}`);
  }
  return { image, proposals };
}

describe('element proposals for a screenshot without a view hierarchy', () => {
  test('every element of a synthetic settings screen is covered by a proposal (IoU >= 0.7)', async () => {
    const { proposals } = await checkCoverage(1);
    assert.ok(proposals.length <= 48, `${proposals.length} proposals, more than the default cap`);
  });

  test('proposals come in reading order: rows top to bottom, left to right within a row', async () => {
    const { proposals } = await checkCoverage(1);
    const index = async (name: string) => {
      const truth = await extent(ELEMENTS.find((e) => e.name === name)!.svg, 1);
      return proposals.findIndex((p) => boxIoU(p, truth) >= 0.7);
    };
    const order = await Promise.all(['title', 'search field', 'wifi icon', 'wifi label', 'bluetooth label', 'bluetooth value', 'update button', 'cancel button', 'fab'].map(index));
    assert.deepEqual(order, order.slice().sort((a, b) => a - b), `proposal indices ${order}`);
  });

  test('a blank screenshot and a smooth gradient give no proposals', async () => {
    const blank = await render(svg([]));
    assert.deepEqual(await proposeElements(blank), []);
    const gradient = await render(
      Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400"><defs><linearGradient id="g"><stop offset="0" stop-color="#202040"/><stop offset="1" stop-color="#a0c0ff"/></linearGradient></defs><rect width="640" height="400" fill="url(#g)"/></svg>`),
    );
    assert.deepEqual(await proposeElements(gradient), []);
  });

  test('a huge screenshot is downscaled for the search and boxes come back in its own pixels', async () => {
    const { image } = await checkCoverage(6); // 2880 x 4800
    assert.equal(image.width, WIDTH * 6);
  });

  test('the cap keeps boxes that lie inside no other first, largest first', async () => {
    const image = await render(svg(ELEMENTS.map((e) => e.svg)));
    const all = await proposeElements(image);
    const area = (b: PixelBox) => (b.x1 - b.x0) * (b.y1 - b.y0);
    const contains = (b: PixelBox, a: PixelBox) => b !== a && b.x0 <= a.x0 && b.y0 <= a.y0 && b.x1 >= a.x1 && b.y1 >= a.y1;
    const outermost = all.filter((a) => !all.some((b) => contains(b, a)));
    assert.ok(outermost.length < all.length, 'the screen has nested boxes (button labels)');
    const key = (b: PixelBox) => JSON.stringify(b);
    const three = await proposeElements(image, { maxProposals: 3 });
    assert.deepEqual(three.map(area).sort((a, b) => b - a), outermost.map(area).sort((a, b) => b - a).slice(0, 3));
    const oneMore = await proposeElements(image, { maxProposals: outermost.length + 1 });
    assert.equal(oneMore.length, outermost.length + 1);
    assert.deepEqual(outermost.map(key).filter((k) => !oneMore.map(key).includes(k)), [], 'every outermost box is kept before any nested one');
  });

  test('bad options and images are refused with a clear error', async () => {
    const image = await render(svg([]));
    await assert.rejects(proposeElements(image, { maxSide: 0 }), /maxSide must be a whole number >= 16/);
    await assert.rejects(proposeElements({ width: 4, height: 4, data: new Uint8Array(3) }), /expected an RGB image/);
  });
});
