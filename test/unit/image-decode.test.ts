import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { ImageError } from '../../model-runtime/src/errors';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { tempDir } from '../helpers/fixture';

const W = 6;
const H = 4;

/** A PNG of one colour, `channels` samples per pixel. */
const solidPng = (channels: 1 | 2 | 3 | 4, sample: number[]) =>
  sharp(Buffer.from(Array.from({ length: W * H }, () => sample).flat()), { raw: { width: W, height: H, channels } }).png().toBuffer();

const pixelsOf = (image: { data: Uint8Array }) => Array.from(image.data.subarray(0, 3));

describe('decoding as PIL convert("RGB") does', () => {
  test('alpha is dropped, not composited: a transparent pixel keeps its colour', async () => {
    const rgba = await decodeImage(await solidPng(4, [10, 20, 30, 0]));
    assert.deepEqual([rgba.width, rgba.height, rgba.data.length], [W, H, W * H * 3]);
    assert.deepEqual(pixelsOf(rgba), [10, 20, 30]);
  });

  test('grey, with or without alpha, is replicated into R, G and B', async () => {
    assert.deepEqual(pixelsOf(await decodeImage(await solidPng(1, [77]))), [77, 77, 77]);
    assert.deepEqual(pixelsOf(await decodeImage(await solidPng(2, [99, 5]))), [99, 99, 99]);
  });

  test('what the bytes are decides, not the name: a JPEG named .png decodes', async () => {
    const dir = tempDir('decode-names');
    const jpeg = await sharp({ create: { width: W, height: H, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    fs.writeFileSync(path.join(dir, 'photo.png'), jpeg);
    fs.writeFileSync(path.join(dir, 'photo.jpg'), jpeg);
    assert.deepEqual(await decodeImage(path.join(dir, 'photo.png')), await decodeImage(path.join(dir, 'photo.jpg')));
  });

  test('an SVG cannot pull in other files: references beside it stay blank', async () => {
    const dir = tempDir('decode-svg');
    fs.writeFileSync(path.join(dir, 'red.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } }).png().toBuffer());
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#fff"/><image href="red.png" width="8" height="8"/><image href="file://${dir}/red.png" width="8" height="8"/></svg>`;
    fs.writeFileSync(path.join(dir, 'refs.svg'), svg);
    const decoded = await decodeImage(path.join(dir, 'refs.svg'));
    assert.ok(decoded.data.every((v) => v === 255), 'the referenced red image was drawn');
  });

  test('a buffer that is not an image is refused with what it is', async () => {
    await assert.rejects(decodeImage(Buffer.from('%PDF-1.4\n')), (err: Error) => err instanceof ImageError && err.message === 'image: a PDF document, not an image — export the page you need as PNG first');
    await assert.rejects(decodeImage(Buffer.alloc(0)), /image: the image data is empty \(0 bytes\)/);
  });
});
