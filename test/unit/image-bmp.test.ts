import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { ImageError } from '../../model-runtime/src/errors';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { encodeBmp, type BmpSpec } from '../helpers/bmp-writer';
import { tempDir } from '../helpers/fixture';

/** Deterministic pseudo-random bytes, so failures reproduce. */
function noise(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
}

const W = 7; // odd: every row needs padding at 1, 4, 8, 16 and 24 bits
const H = 5;

const palette = (n: number, seed: number): [number, number, number][] => {
  const bytes = noise(n * 3, seed);
  return Array.from({ length: n }, (_, i) => [bytes[i * 3]!, bytes[i * 3 + 1]!, bytes[i * 3 + 2]!]);
};

/** The RGB a palette image should decode to. */
function lookedUp(indices: number[], colours: [number, number, number][]): number[] {
  return indices.flatMap((i) => colours[i] ?? [0, 0, 0]);
}

/** value * 255 / max, truncated: what a 5- or 6-bit field means in 8 bits. */
const scaled = (v: number, max: number) => Math.floor((v * 255) / max);

async function decodes(spec: BmpSpec, expected: number[], message = ''): Promise<void> {
  const decoded = await decodeImage(encodeBmp(spec), 'test.bmp');
  assert.equal(decoded.width, spec.width, message);
  assert.equal(decoded.height, spec.height, message);
  assert.deepEqual(Array.from(decoded.data), expected, message);
}

async function refuses(bytes: Buffer, pattern: RegExp): Promise<void> {
  await assert.rejects(decodeImage(bytes, 'bad.bmp'), (err: Error) => err instanceof ImageError && /^bad\.bmp: /.test(err.message) && pattern.test(err.message));
}

describe('BMP files decode to the pixels they hold', () => {
  const rgb = noise(W * H * 3, 1);

  test('24-bit, bottom-up and top-down rows', async () => {
    await decodes({ width: W, height: H, bitCount: 24, pixels: rgb }, rgb, 'bottom-up');
    await decodes({ width: W, height: H, bitCount: 24, pixels: rgb, topDown: true }, rgb, 'top-down');
  });

  test('32-bit: the fourth byte is ignored (Pillow reads BGRX), and explicit masks in any order', async () => {
    const packed = Array.from({ length: W * H }, (_, p) => ((0x5a << 24) | (rgb[p * 3]! << 16) | (rgb[p * 3 + 1]! << 8) | rgb[p * 3 + 2]!) >>> 0);
    await decodes({ width: W, height: H, bitCount: 32, pixels: packed }, rgb, 'BGRX');
    const rgba = Array.from({ length: W * H }, (_, p) => ((0x80 << 24) | (rgb[p * 3 + 2]! << 16) | (rgb[p * 3 + 1]! << 8) | rgb[p * 3]!) >>> 0);
    await decodes({ width: W, height: H, bitCount: 32, pixels: rgba, compression: 'bitfields', masks: [0xff, 0xff00, 0xff0000] }, rgb, 'RGBA masks');
    for (const infoSize of [108, 124] as const) {
      await decodes({ width: W, height: H, bitCount: 32, pixels: rgba, compression: 'bitfields', masks: [0xff, 0xff00, 0xff0000], infoSize }, rgb, `V${infoSize === 108 ? 4 : 5} header`);
    }
  });

  test('16-bit: 5-5-5 by default, 5-6-5 with masks, each field scaled to 0..255', async () => {
    const fields = noise(W * H * 3, 2).map((v) => v & 31);
    const x555 = Array.from({ length: W * H }, (_, p) => (fields[p * 3]! << 10) | (fields[p * 3 + 1]! << 5) | fields[p * 3 + 2]!);
    await decodes({ width: W, height: H, bitCount: 16, pixels: x555 }, fields.map((v) => scaled(v, 31)), '555');
    const green6 = noise(W * H, 3).map((v) => v & 63);
    const r565 = Array.from({ length: W * H }, (_, p) => (fields[p * 3]! << 11) | (green6[p]! << 5) | fields[p * 3 + 2]!);
    const expected = Array.from({ length: W * H }, (_, p) => [scaled(fields[p * 3]!, 31), scaled(green6[p]!, 63), scaled(fields[p * 3 + 2]!, 31)]).flat();
    await decodes({ width: W, height: H, bitCount: 16, pixels: r565, compression: 'bitfields', masks: [0xf800, 0x07e0, 0x001f] }, expected, '565');
  });

  for (const bitCount of [1, 4, 8] as const) {
    test(`${bitCount}-bit palette, including the 12-byte core header`, async () => {
      const colours = palette(1 << bitCount, 10 + bitCount);
      const indices = noise(W * H, 20 + bitCount).map((v) => v % (1 << bitCount));
      await decodes({ width: W, height: H, bitCount, pixels: indices, palette: colours }, lookedUp(indices, colours), 'info header');
      await decodes({ width: W, height: H, bitCount, pixels: indices, palette: colours, infoSize: 12 }, lookedUp(indices, colours), 'core header');
    });
  }

  test('indices past a short palette are black', async () => {
    const colours = palette(3, 30);
    const indices = noise(W * H, 31).map((v) => v % 8);
    await decodes({ width: W, height: H, bitCount: 8, pixels: indices, palette: colours }, lookedUp(indices, colours));
  });

  for (const mode of ['rle8', 'rle4'] as const) {
    test(`${mode}: runs and absolute stretches`, async () => {
      const colours = palette(mode === 'rle8' ? 256 : 16, 40);
      // Long runs and noisy stretches, so that both encodings occur.
      const indices = Array.from({ length: 23 * 9 }, (_, p) => (p % 23 < 9 ? (p / 23) | 0 : (p * 7) % 13) % colours.length);
      await decodes({ width: 23, height: 9, bitCount: mode === 'rle8' ? 8 : 4, pixels: indices, palette: colours, compression: mode }, lookedUp(indices, colours));
    });
  }

  test('run-length deltas and early ends of line leave palette entry 0; runs past the edge are clipped', async () => {
    const colours: [number, number, number][] = [[9, 8, 7], [200, 0, 0], [0, 200, 0]];
    // Bottom row: a 6-pixel run of 1 into a 4-wide image, end of line. Next row: delta (+2, +0), one pixel of 2, end of bitmap.
    const data = Uint8Array.from([6, 1, 0, 0, 0, 2, 2, 0, 1, 2, 0, 1]);
    const expectedRows = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 2, 0],
      [1, 1, 1, 1],
    ];
    await decodes({ width: 4, height: 4, bitCount: 8, pixels: [], palette: colours, compression: 'rle8', rawPixelData: data }, lookedUp(expectedRows.flat(), colours));
  });

  test('the same pixels as ImageMagick wrote them (BMP3 and RLE8), when ImageMagick is installed', async (t) => {
    if (spawnSync('convert', ['-version']).status !== 0) return t.skip('ImageMagick (convert) is not installed');
    const dir = tempDir('bmp-magick');
    const source = path.join(dir, 'source.png');
    const indices = noise(40 * 30, 50).map((v) => v % 6);
    const colours = palette(6, 51);
    await sharp(Buffer.from(lookedUp(indices, colours)), { raw: { width: 40, height: 30, channels: 3 } }).png().toFile(source);
    const reference = await decodeImage(source);
    for (const [name, args] of [
      ['bmp3-24.bmp', ['-type', 'TrueColor', 'BMP3:']],
      ['bmp3-8.bmp', ['-type', 'Palette', 'BMP3:']],
      ['rle8.bmp', ['-type', 'Palette', '-compress', 'RLE', 'BMP3:']],
      ['bmp4-32.bmp', ['-type', 'TrueColorAlpha', 'BMP:']],
    ] as const) {
      const file = path.join(dir, name);
      const r = spawnSync('convert', [source, ...args.slice(0, -1), `${args.at(-1)}${file}`]);
      assert.equal(r.status, 0, r.stderr.toString());
      const decoded = await decodeImage(file);
      assert.deepEqual([decoded.width, decoded.height], [40, 30], name);
      assert.ok(Buffer.from(decoded.data).equals(Buffer.from(reference.data)), `${name} decodes to other pixels than the PNG it was made from`);
    }
  });
});

describe('damaged and unsupported BMP files are refused with the reason', () => {
  const good = encodeBmp({ width: W, height: H, bitCount: 24, pixels: noise(W * H * 3, 60) });

  test('truncated pixel data, header or run-length stream', async () => {
    await refuses(good.subarray(0, good.length - 20), /truncated/);
    await refuses(good.subarray(0, 30), /damaged BMP file \(the file ends inside its header\)/);
    const rle = encodeBmp({ width: 23, height: 9, bitCount: 8, pixels: noise(23 * 9, 61), palette: palette(256, 62), compression: 'rle8' });
    await refuses(rle.subarray(0, rle.length - 40), /truncated/);
  });

  test('sizes over the limits are refused from the header, before any allocation', async () => {
    const huge = Buffer.from(good);
    huge.writeInt32LE(16000, 18);
    huge.writeInt32LE(16000, 22);
    const started = performance.now();
    await refuses(huge, /16000×16000 pixels \(256 megapixels\) is over the 179 megapixels limit .*PIX2STRUCT_MAX_MEGAPIXELS=256/);
    assert.ok(performance.now() - started < 500);
    const zero = Buffer.from(good);
    zero.writeInt32LE(0, 18);
    await refuses(zero, /size of 0×5 pixels/);
  });

  test('bit depths, compressions and masks this reader does not handle say so', async () => {
    const twoBit = Buffer.from(good);
    twoBit.writeUInt16LE(2, 28);
    await refuses(twoBit, /2 bits per pixel, which this reader does not support/);
    const jpeg = Buffer.from(good);
    jpeg.writeUInt32LE(4, 30);
    await refuses(jpeg, /embedded JPEG image/);
    const split = encodeBmp({ width: 2, height: 2, bitCount: 16, pixels: [0, 0, 0, 0], compression: 'bitfields', masks: [0xf00f, 0x0ff0, 0] });
    await refuses(split, /colour mask \(0xf00f\) that is not one run of bits/);
  });

  test('a BMP file on disk is read in pieces and gives the same pixels', async () => {
    const file = path.join(tempDir('bmp-file'), 'x.bmp');
    fs.writeFileSync(file, good);
    const fromFile = await decodeImage(file);
    const fromBuffer = await decodeImage(good);
    assert.deepEqual(Array.from(fromFile.data), Array.from(fromBuffer.data));
  });
});
