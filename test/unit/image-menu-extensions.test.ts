import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp, { type FormatEnum } from 'sharp';
import { IMAGE_EXTENSIONS } from '../../model-runtime/cli/batch-command';
import { decodeImage } from '../../model-runtime/src/preprocess/decode-image';
import { encodeBmp } from '../helpers/bmp-writer';
import { tempDir } from '../helpers/fixture';

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'));

/** The extensions a `resourceExtname =~ /^\.(a|b?c)$/i` clause offers, expanded (b?c: bc and c). */
function offeredExtensions(when: string): string[] {
  const alternatives = /resourceExtname =~ \/\^\\\.\(([^)]+)\)\$\/i/.exec(when)?.[1];
  if (!alternatives) return [];
  return alternatives.split('|').flatMap((alt) => {
    const optional = /^(.*)(.)\?(.*)$/.exec(alt);
    return optional ? [`${optional[1]}${optional[2]}${optional[3]}`, `${optional[1]}${optional[3]}`] : [alt];
  });
}

/** A small picture in each format, written by an encoder other than the decoder under test. */
async function sample(ext: string, dir: string): Promise<string> {
  const file = path.join(dir, `sample.${ext}`);
  const pixels = { create: { width: 24, height: 16, channels: 3 as const, background: { r: 200, g: 40, b: 90 } } };
  if (ext === 'bmp') {
    fs.writeFileSync(file, encodeBmp({ width: 24, height: 16, bitCount: 24, pixels: new Array(24 * 16 * 3).fill(0).map((_, i) => [200, 40, 90][i % 3]!) }));
  } else {
    const format = ext === 'jpg' ? 'jpeg' : ext === 'tif' ? 'tiff' : ext;
    await sharp(pixels).toFormat(format as keyof FormatEnum).toFile(file);
  }
  return file;
}

test('every image extension a menu offers decodes, and batch takes the same ones', async () => {
  const menus = Object.values(manifest.contributes.menus as Record<string, { command: string; when?: string }[]>).flat();
  const offered = new Set(menus.flatMap((m) => offeredExtensions(m.when ?? '')));
  assert.ok(offered.size >= 8, `menus offer ${[...offered].join(', ')}`);
  assert.deepEqual([...offered].map((e) => `.${e}`).sort(), [...IMAGE_EXTENSIONS].sort(), 'the Explorer menus and batch accept different extensions');
  const dir = tempDir('menu-formats');
  for (const ext of offered) {
    const image = await decodeImage(await sample(ext, dir));
    assert.deepEqual([image.width, image.height], [24, 16], ext);
    // Lossy formats move colours a little; every format must still give the picture's colour.
    const [r, g, b] = [image.data[0]!, image.data[1]!, image.data[2]!];
    assert.ok(Math.abs(r - 200) + Math.abs(g - 40) + Math.abs(b - 90) < 30, `${ext}: first pixel ${r},${g},${b}`);
  }
});
