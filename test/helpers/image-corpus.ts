/**
 * A corpus of hostile and odd image files, made by the test itself (no binary blobs): truncated
 * and damaged files of every format, huge declared sizes, files that are not images at all,
 * filesystem oddities and unusual but valid images. Each case says whether a user should get
 * a result or a refusal, and for refusals what the one line must say.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { encodeBmp } from './bmp-writer';

export type CorpusCategory = 'valid' | 'odd valid' | 'bmp' | 'truncated' | 'damaged' | 'huge' | 'not an image' | 'filesystem' | 'svg';

export interface CorpusCase {
  /** File name inside the corpus folder (the test passes its full path). */
  name: string;
  category: CorpusCategory;
  /** 'either' where the outcome legitimately depends on the machine (running as root). */
  expect: 'result' | 'refusal' | 'either';
  /** What the refusal's line must say, after "pix2struct: error: <path>: ". */
  says?: RegExp;
}

// ---- PNG, written chunk by chunk ----

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(data: Uint8Array): number {
  let crc = -1;
  for (const b of data) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array = new Uint8Array(0)): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 8 + data.length);
  return out;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function pngIhdr(width: number, height: number, colorType: number, bitDepth: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return pngChunk('IHDR', ihdr);
}

/** A PNG from raw samples (filter 0 on every row); `extra` chunks go between IHDR and IDAT. */
function png(width: number, height: number, colorType: number, bitDepth: number, samples: (i: number) => number, extra: Buffer[] = []): Buffer {
  const rowBytes = Math.ceil((width * CHANNELS[colorType]! * bitDepth) / 8);
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) for (let i = 0; i < rowBytes; i++) raw[y * (rowBytes + 1) + 1 + i] = samples(y * rowBytes + i);
  return Buffer.concat([PNG_SIGNATURE, pngIhdr(width, height, colorType, bitDepth), ...extra, pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND')]);
}

/** A PNG of `height` zero rows, deflated a row at a time so that a huge one never exists in memory. */
async function zeroPng(file: string, width: number, height: number, colorType: number, bitDepth: number): Promise<void> {
  const row = Buffer.alloc(1 + Math.ceil((width * CHANNELS[colorType]! * bitDepth) / 8));
  const deflate = zlib.createDeflate({ level: 1 });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  for (let y = 0; y < height; y++) if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  deflate.end();
  await done;
  fs.writeFileSync(file, Buffer.concat([PNG_SIGNATURE, pngIhdr(width, height, colorType, bitDepth), pngChunk('IDAT', Buffer.concat(parts)), pngChunk('IEND')]));
}

// ---- pixels and sharp-made formats ----

function noise(n: number, seed: number): Buffer {
  let s = seed >>> 0;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const W = 48;
const H = 36;
const rgbNoise = (seed: number, w = W, h = H) => sharp(noise(w * h * 3, seed), { raw: { width: w, height: h, channels: 3 } });
/** Three different frames stacked, for animations and multi-page files. */
const frames = () => sharp(noise(W * H * 3 * 3, 7), { raw: { width: W, height: H * 3, channels: 3, pageHeight: H } });

/** Replaces the size in a JPEG's first SOF segment (the bytes after FFC0/FFC2: length, precision, height, width). */
function withJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + out.readUInt16BE(i + 2);
  }
  throw new Error('no SOF segment');
}

/** Sets a GIF's logical screen and first image descriptor size. */
function withGifSize(gif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(gif);
  out.writeUInt16LE(width, 6);
  out.writeUInt16LE(height, 8);
  // Past the global colour table and any extension blocks (0x21, label, sub-blocks) to the descriptor (0x2c).
  let at = 13 + (out[10]! & 0x80 ? 3 << ((out[10]! & 7) + 1) : 0);
  while (out[at] === 0x21) {
    at += 2;
    while (out[at] !== 0) at += out[at]! + 1;
    at++;
  }
  out.writeUInt16LE(width, at + 5);
  out.writeUInt16LE(height, at + 7);
  return out;
}

/** Sets the size in a lossy WebP's VP8 frame header (after the 9d 01 2a start code: 14-bit width, 14-bit height). */
function withWebpSize(webp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(webp);
  const start = out.indexOf(Buffer.from([0x9d, 0x01, 0x2a]));
  out.writeUInt16LE(width, start + 3);
  out.writeUInt16LE(height, start + 5);
  return out;
}

/** Sets the size an AVIF's image spatial extents ('ispe') box declares. */
function withAvifSize(avif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(avif);
  const ispe = out.indexOf('ispe');
  out.writeUInt32BE(width, ispe + 8);
  out.writeUInt32BE(height, ispe + 12);
  return out;
}

/** A minimal ZIP with one stored entry (what Office and plain ZIP files start with). */
function zip(entryName: string, content: string): Buffer {
  const name = Buffer.from(entryName);
  const data = Buffer.from(content);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(crc32(data), 14);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(data.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, data]);
}

const svg = (body: string, size = 'width="64" height="48"') => `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ${size}>${body}</svg>`;

function billionLaughs(): string {
  const entities = ['<!ENTITY a "ha ha ha ha ha ha ha ha ha ha">'];
  for (let i = 1; i < 10; i++) entities.push(`<!ENTITY ${String.fromCharCode(97 + i)} "${`&${String.fromCharCode(96 + i)};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE svg [${entities.join('')}]>${svg('<text y="20">&j;</text>')}`;
}

// ---- the corpus ----

const DAMAGED = (format: string) => new RegExp(`(truncated or damaged ${format} data|a damaged ${format} file)`);
const OVER_LIMIT = /pixels \(\d+(\.\d)? megapixels\) is over the \d+(\.\d)? megapixels limit( for [^—]+)? — downscale or crop it, or raise the limit with PIX2STRUCT_MAX_MEGAPIXELS=\d+/;

/**
 * Writes every case into `dir` and returns them. `leakUrl` is an http:// address whose server
 * counts requests: SVG references point there (and at local files) and must fetch nothing.
 */
export async function buildCorpus(dir: string, leakUrl: string): Promise<CorpusCase[]> {
  const cases: CorpusCase[] = [];
  const add = (name: string, category: CorpusCategory, expect: CorpusCase['expect'], says?: RegExp) => cases.push({ name, category, expect, says });
  const write = (name: string, data: Uint8Array | string, category: CorpusCategory, expect: CorpusCase['expect'], says?: RegExp) => {
    fs.writeFileSync(path.join(dir, name), data);
    add(name, category, expect, says);
  };

  // Valid images, each format once.
  const pngBytes = await rgbNoise(1).png().toBuffer();
  const jpegBytes = await rgbNoise(2).jpeg({ quality: 90 }).toBuffer();
  const gifBytes = await frames().gif().toBuffer();
  const webpBytes = await rgbNoise(4).webp().toBuffer();
  const tiffBytes = await rgbNoise(5).tiff().toBuffer();
  const avifBytes = await rgbNoise(6).avif({ effort: 0 }).toBuffer();
  const progressive444 = await rgbNoise(3).jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).toBuffer();
  write('valid.png', pngBytes, 'valid', 'result');
  write('valid.jpg', jpegBytes, 'valid', 'result');
  write('valid.webp', webpBytes, 'valid', 'result');
  write('valid.tif', tiffBytes, 'valid', 'result');
  write('valid.avif', avifBytes, 'valid', 'result');

  // Odd but valid.
  write('one-pixel.png', png(1, 1, 2, 8, () => 200), 'odd valid', 'result');
  write('one-by-5000.png', png(1, 5000, 0, 8, (i) => i & 255), 'odd valid', 'result');
  write('5000-by-one.png', png(5000, 1, 0, 8, (i) => i & 255), 'odd valid', 'result');
  write('rgb-16-bit.png', png(W, H, 2, 16, (i) => (i * 7) & 255), 'odd valid', 'result');
  write('grey-16-bit.png', png(W, H, 0, 16, (i) => (i * 5) & 255), 'odd valid', 'result');
  write('grey-alpha.png', png(W, H, 4, 8, (i) => (i * 3) & 255), 'odd valid', 'result');
  write('rgba.png', png(W, H, 6, 8, (i) => (i * 11) & 255), 'odd valid', 'result');
  write('one-bit-grey.png', png(W, H, 0, 1, (i) => (i * 37) & 255), 'odd valid', 'result');
  write('palette.png', png(W, H, 3, 8, (i) => i % 4, [pngChunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]))]), 'odd valid', 'result');
  write('palette-transparency.png', png(W, H, 3, 4, (i) => i & 0x33, [pngChunk('PLTE', noise(16 * 3, 8)), pngChunk('tRNS', Buffer.from([0, 128, 255]))]), 'odd valid', 'result');
  write('interlaced.png', await rgbNoise(9).png({ progressive: true }).toBuffer(), 'odd valid', 'result');
  write('trailing-garbage.png', Buffer.concat([pngBytes, noise(300, 10)]), 'odd valid', 'result');
  write('progressive.jpg', await rgbNoise(11).jpeg({ progressive: true }).toBuffer(), 'odd valid', 'result');
  write('grey.jpg', await rgbNoise(12).greyscale().jpeg().toBuffer(), 'odd valid', 'result');
  write('cmyk.jpg', await rgbNoise(13).toColourspace('cmyk').jpeg().toBuffer(), 'odd valid', 'result');
  write('exif-rotated.jpg', await rgbNoise(14).withMetadata({ orientation: 6 }).jpeg().toBuffer(), 'odd valid', 'result');
  write('animated.gif', gifBytes, 'odd valid', 'result');
  write('animated.webp', await frames().webp().toBuffer(), 'odd valid', 'result');
  write('lossless-alpha.webp', await sharp(noise(W * H * 4, 15), { raw: { width: W, height: H, channels: 4 } }).webp({ lossless: true }).toBuffer(), 'odd valid', 'result');
  write('multi-page.tiff', await frames().tiff().toBuffer(), 'odd valid', 'result');
  write('jpeg-named.png', jpegBytes, 'odd valid', 'result');
  write('png-named.jpg', pngBytes, 'odd valid', 'result');
  write('no-extension', pngBytes, 'odd valid', 'result');
  write('ünïcödé näme with spaces.png', pngBytes, 'odd valid', 'result');

  // BMP variants (sharp has no BMP reader; these go through our own).
  const bmpRgb = noise(W * H * 3, 20);
  const indices = (bits: number) => Array.from(noise(W * H, 21 + bits), (v) => v % (1 << bits));
  const bmpPalette = (bits: number) => Array.from({ length: 1 << bits }, (_, i) => [(i * 67) & 255, (i * 131) & 255, (i * 29) & 255] as [number, number, number]);
  write('bmp-24.bmp', encodeBmp({ width: W, height: H, bitCount: 24, pixels: bmpRgb }), 'bmp', 'result');
  write('bmp-24-top-down.bmp', encodeBmp({ width: W, height: H, bitCount: 24, pixels: bmpRgb, topDown: true }), 'bmp', 'result');
  write('bmp-32.bmp', encodeBmp({ width: W, height: H, bitCount: 32, pixels: Array.from({ length: W * H }, (_, p) => bmpRgb.readUIntBE(p * 3, 3)) }), 'bmp', 'result');
  write('bmp-32-v5-alpha.bmp', encodeBmp({ width: W, height: H, bitCount: 32, infoSize: 124, compression: 'bitfields', masks: [0xff0000, 0xff00, 0xff], pixels: Array.from({ length: W * H }, (_, p) => (0x80000000 | bmpRgb.readUIntBE(p * 3, 3)) >>> 0) }), 'bmp', 'result');
  write('bmp-16-555.bmp', encodeBmp({ width: W, height: H, bitCount: 16, pixels: Array.from(noise(W * H, 22), (v) => v * 97) }), 'bmp', 'result');
  write('bmp-16-565.bmp', encodeBmp({ width: W, height: H, bitCount: 16, compression: 'bitfields', masks: [0xf800, 0x07e0, 0x001f], pixels: Array.from(noise(W * H, 23), (v) => v * 211) }), 'bmp', 'result');
  for (const bits of [1, 4, 8] as const) write(`bmp-${bits}-bit.bmp`, encodeBmp({ width: W, height: H, bitCount: bits, pixels: indices(bits), palette: bmpPalette(bits) }), 'bmp', 'result');
  write('bmp-core-header.bmp', encodeBmp({ width: W, height: H, bitCount: 8, infoSize: 12, pixels: indices(8), palette: bmpPalette(8) }), 'bmp', 'result');
  write('bmp-rle8.bmp', encodeBmp({ width: W, height: H, bitCount: 8, compression: 'rle8', pixels: indices(3), palette: bmpPalette(8) }), 'bmp', 'result');
  write('bmp-rle4.bmp', encodeBmp({ width: W, height: H, bitCount: 4, compression: 'rle4', pixels: indices(2), palette: bmpPalette(4) }), 'bmp', 'result');
  // Runs far past the right edge and a delta far below the last row: clipped, nothing written outside.
  write('bmp-rle8-overruns.bmp', encodeBmp({ width: 8, height: 4, bitCount: 8, compression: 'rle8', pixels: [], palette: bmpPalette(2), rawPixelData: Uint8Array.from([255, 1, 255, 1, 0, 0, 0, 2, 250, 250, 3, 1, 0, 1]) }), 'bmp', 'result');
  const bmp24 = encodeBmp({ width: W, height: H, bitCount: 24, pixels: bmpRgb });
  write('bmp-truncated.bmp', bmp24.subarray(0, bmp24.length >> 1), 'truncated', 'refusal', /the BMP data ends early/);
  write('bmp-truncated-header.bmp', bmp24.subarray(0, 40), 'truncated', 'refusal', /damaged BMP file/);
  const bmpHuge = Buffer.from(bmp24.subarray(0, 200));
  bmpHuge.writeInt32LE(16000, 18);
  bmpHuge.writeInt32LE(16000, 22);
  write('bmp-declares-16000x16000.bmp', bmpHuge, 'huge', 'refusal', OVER_LIMIT);
  const bmpJpeg = Buffer.from(bmp24);
  bmpJpeg.writeUInt32LE(4, 30);
  write('bmp-embedded-jpeg.bmp', bmpJpeg, 'bmp', 'refusal', /embedded JPEG image, which this reader does not support/);

  // Truncated files, at several points.
  write('png-signature-only.png', pngBytes.subarray(0, 8), 'truncated', 'refusal', DAMAGED('PNG'));
  write('png-cut-in-ihdr.png', pngBytes.subarray(0, 20), 'truncated', 'refusal', DAMAGED('PNG'));
  write('png-no-idat.png', pngBytes.subarray(0, 33), 'truncated', 'refusal', DAMAGED('PNG'));
  write('png-cut-in-idat.png', pngBytes.subarray(0, pngBytes.length >> 1), 'truncated', 'refusal', DAMAGED('PNG'));
  write('png-cut-before-iend.png', pngBytes.subarray(0, pngBytes.length - 12), 'truncated', 'either');
  write('jpeg-soi-only.jpg', jpegBytes.subarray(0, 2), 'truncated', 'refusal', DAMAGED('JPEG'));
  write('jpeg-cut-in-header.jpg', jpegBytes.subarray(0, 100), 'truncated', 'refusal', DAMAGED('JPEG'));
  write('jpeg-cut-in-scan.jpg', jpegBytes.subarray(0, jpegBytes.length >> 1), 'truncated', 'refusal', DAMAGED('JPEG'));
  write('jpeg-no-eoi.jpg', jpegBytes.subarray(0, jpegBytes.length - 2), 'truncated', 'either');
  write('gif-cut-in-first-frame.gif', gifBytes.subarray(0, 40), 'truncated', 'refusal', DAMAGED('GIF'));
  // Like Pillow, only the first frame is read: a cut in a later one may go unnoticed.
  write('gif-cut-in-last-frame.gif', gifBytes.subarray(0, gifBytes.length - 20), 'truncated', 'either');
  write('webp-cut.webp', webpBytes.subarray(0, webpBytes.length >> 1), 'truncated', 'refusal', DAMAGED('WebP'));
  write('tiff-cut.tif', tiffBytes.subarray(0, tiffBytes.length >> 1), 'truncated', 'refusal', DAMAGED('TIFF'));

  // Damaged files.
  const badCrc = Buffer.from(pngBytes);
  badCrc[29] ^= 0xff; // IHDR's CRC
  write('png-bad-crc.png', badCrc, 'damaged', 'refusal', DAMAGED('PNG'));
  const badIdat = Buffer.from(pngBytes);
  noise(64, 30).copy(badIdat, 50);
  write('png-garbled-idat.png', badIdat, 'damaged', 'refusal', DAMAGED('PNG'));
  write('png-zero-size.png', png(0, 0, 2, 8, () => 0), 'damaged', 'refusal', DAMAGED('PNG'));
  write('png-then-noise.png', Buffer.concat([PNG_SIGNATURE, noise(2000, 31)]), 'damaged', 'refusal', DAMAGED('PNG'));
  write('jpeg-then-noise.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noise(2000, 32)]), 'damaged', 'refusal', DAMAGED('JPEG'));
  write('random-bytes.png', Buffer.concat([Buffer.from([0x00, 0x9c]), noise(4096, 33)]), 'damaged', 'refusal', /not an image this reader recognises/);

  // Huge declared sizes in tiny files: refused from the header, before any decoding.
  write('png-declares-16000x16000.png', Buffer.concat([PNG_SIGNATURE, pngIhdr(16000, 16000, 2, 8), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(48001 * 16))), pngChunk('IEND')]), 'huge', 'refusal', OVER_LIMIT);
  write('png-declares-2e9-wide.png', Buffer.concat([PNG_SIGNATURE, pngIhdr(2_000_000_000, 1, 0, 8), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), pngChunk('IEND')]), 'huge', 'refusal', /(a side longer than \d+ pixels|damaged PNG)/);
  write('png-declares-12000x12000-tiny-data.png', Buffer.concat([PNG_SIGNATURE, pngIhdr(12000, 12000, 6, 16), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(96001 * 4))), pngChunk('IEND')]), 'huge', 'refusal', DAMAGED('PNG'));
  write('jpeg-declares-16000x16000.jpg', withJpegSize(jpegBytes.subarray(0, 600), 16000, 16000), 'huge', 'refusal', OVER_LIMIT);
  write('jpeg-declares-12000x12000.jpg', withJpegSize(jpegBytes.subarray(0, 600), 12000, 12000), 'huge', 'refusal', DAMAGED('JPEG'));
  write('gif-declares-65535x65535.gif', withGifSize(gifBytes, 65535, 65535), 'huge', 'refusal', OVER_LIMIT);
  write('webp-declares-16383x16383.webp', withWebpSize(webpBytes, 16383, 16383), 'huge', 'refusal', OVER_LIMIT);
  write('avif-declares-16384x16384.avif', withAvifSize(avifBytes, 16384, 16384), 'huge', 'refusal', OVER_LIMIT);
  // Under the pixel limit, but a progressive 4:4:4 JPEG holds 6 bytes of coefficients a pixel while decoding.
  write('progressive-444-declares-11000x11000.jpg', withJpegSize(progressive444, 11000, 11000), 'huge', 'refusal', /is over the \d+(\.\d)? megapixels limit for a progressive JPEG/);
  write('svg-declares-100000x100000.svg', svg('<rect width="10" height="10"/>', 'width="100000" height="100000"'), 'huge', 'refusal', OVER_LIMIT);
  // Complete, valid and over the limit: refused from the header too (decoding it would take 1.8 GB and ten seconds).
  await zeroPng(path.join(dir, 'over-limit-16000x16000-rgba.png'), 16000, 16000, 6, 8);
  add('over-limit-16000x16000-rgba.png', 'huge', 'refusal', OVER_LIMIT);
  // Legal but large, up to the limits (image-limits.ts): decoded whole, in bounded memory.
  await zeroPng(path.join(dir, 'at-limit-13376x13376-rgba.png'), 13376, 13376, 6, 8);
  add('at-limit-13376x13376-rgba.png', 'huge', 'result');
  await zeroPng(path.join(dir, 'legal-9000x9000-rgb-16-bit.png'), 9000, 9000, 2, 16);
  add('legal-9000x9000-rgb-16-bit.png', 'huge', 'result');
  await sharp({ create: { width: 9580, height: 9580, channels: 3, background: '#4080c0' } }).jpeg({ progressive: true, quality: 50 }).toFile(path.join(dir, 'at-limit-9580x9580-progressive.jpg'));
  add('at-limit-9580x9580-progressive.jpg', 'huge', 'result');

  // Files that are not images, whatever their names say.
  write('document.pdf', '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'not an image', 'refusal', /a PDF document, not an image — export the page you need as PNG first/);
  write('pdf-named.png', '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'not an image', 'refusal', /a PDF document, not an image/);
  write('zip-named.png', zip('photo.png', 'not really'), 'not an image', 'refusal', /a ZIP archive, not an image — extract the image from it first/);
  write('docx-named.png', zip('[Content_Types].xml', '<Types/>'), 'not an image', 'refusal', /an Office document \(Word, Excel or PowerPoint\), not an image/);
  write('html-named.png', '<!DOCTYPE html>\n<html><head><title>Screenshot</title></head><body><img src="shot.png"></body></html>\n', 'not an image', 'refusal', /a web page \(HTML\), not an image — save the image itself/);
  write('text-named.png', 'These are my notes about the screenshot.\nNothing to decode here.\n', 'not an image', 'refusal', /a text file, not an image/);
  write('json-named.png', '{"image": "shot.png", "text": "what is this?"}\n', 'not an image', 'refusal', /a JSON file, not an image/);
  write('gzip-named.png', zlib.gzipSync(pngBytes), 'not an image', 'refusal', /gzip-compressed data, not an image — decompress it first/);
  write('program-named.png', Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'), Buffer.alloc(120)]), 'not an image', 'refusal', /a program, not an image/);
  write('video-named.png', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom\0\0\0\0isomiso2'), Buffer.from([0, 0, 0, 8]), Buffer.from('free')]), 'not an image', 'refusal', /a video \(MP4\/MOV\)/);
  write('photo.heic', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic'), noise(400, 34)]), 'not an image', 'refusal', /a HEIC image, which this reader cannot decode — convert it to JPEG or PNG first/);
  write('image.jxl', Buffer.concat([Buffer.from([0xff, 0x0a]), noise(200, 35)]), 'not an image', 'refusal', /a JPEG XL image, a format this reader does not support/);
  write('layers.psd', Buffer.concat([Buffer.from('8BPS\x00\x01', 'latin1'), Buffer.alloc(100)]), 'not an image', 'refusal', /a Photoshop document, not an image — export it as PNG first/);
  write('favicon.ico', Buffer.concat([Buffer.from([0, 0, 1, 0, 1, 0, 16, 16]), Buffer.alloc(100)]), 'not an image', 'refusal', /a Windows icon/);
  write('image.ppm', Buffer.concat([Buffer.from('P6\n2 2\n255\n'), noise(12, 36)]), 'not an image', 'refusal', /a Netpbm/);

  // SVG: rendered from memory, so references to other files or the network fetch nothing.
  write('simple.svg', svg('<rect x="4" y="4" width="40" height="30" fill="#369"/>'), 'svg', 'result');
  fs.writeFileSync(path.join(dir, 'secret-beside.png'), pngBytes);
  write(
    'external-references.svg',
    svg(`<image xlink:href="${leakUrl}/image.png" width="10" height="10"/><image href="file:///etc/passwd" width="10" height="10"/><image href="secret-beside.png" width="10" height="10"/><use href="${leakUrl}/defs.svg#x"/><style>@import url("${leakUrl}/style.css");</style>`),
    'svg',
    'result',
  );
  write('billion-laughs.svg', billionLaughs(), 'svg', 'refusal', /an SVG whose XML entities expand without bound/);
  write('malformed.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect', 'svg', 'refusal', /a damaged SVG file \(not well-formed XML/);

  // Filesystem oddities.
  write('empty.png', '', 'filesystem', 'refusal', /the file is empty \(0 bytes\)/);
  fs.mkdirSync(path.join(dir, 'folder.png'));
  add('folder.png', 'filesystem', 'refusal', /a folder, not an image file/);
  if (spawnSync('mkfifo', [path.join(dir, 'pipe.png')]).status === 0) add('pipe.png', 'filesystem', 'refusal', /a named pipe \(FIFO\), not an image file/);
  fs.symlinkSync('loop.png', path.join(dir, 'loop.png'));
  add('loop.png', 'filesystem', 'refusal', /a symbolic link loop/);
  fs.symlinkSync('no-such-target.png', path.join(dir, 'dangling.png'));
  add('dangling.png', 'filesystem', 'refusal', /a symbolic link to no-such-target\.png, which does not exist/);
  fs.symlinkSync('valid.png', path.join(dir, 'link-to-valid.png'));
  add('link-to-valid.png', 'filesystem', 'result');
  write('unreadable.png', pngBytes, 'filesystem', process.getuid?.() === 0 ? 'either' : 'refusal', /permission denied/);
  fs.chmodSync(path.join(dir, 'unreadable.png'), 0);
  write('line\nbreak.png', '', 'filesystem', 'refusal', /the file is empty/);
  add('missing.png', 'filesystem', 'refusal', /file not found/);

  return cases;
}
