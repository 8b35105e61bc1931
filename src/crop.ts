/**
 * Cropping an image to a rectangle the user drew in the panel: the rectangle is clamped to the
 * image, the crop is written as a PNG next to the original (never over it). No vscode imports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Box } from './protocol/common';

export class CropError extends Error {}

/**
 * The box in whole pixels inside a width x height image (x1/y1 exclusive), or a CropError when
 * nothing of it is left: a box drawn past the edge keeps the part that overlaps the image.
 */
export function clampCropBox(box: Box, width: number, height: number): Box {
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max, Math.round(v)));
  const x0 = clamp(Math.min(box.x0, box.x1), width);
  const x1 = clamp(Math.max(box.x0, box.x1), width);
  const y0 = clamp(Math.min(box.y0, box.y1), height);
  const y1 = clamp(Math.max(box.y0, box.y1), height);
  if (x1 - x0 < 1 || y1 - y0 < 1) {
    throw new CropError(`the crop rectangle ${box.x0},${box.y0}–${box.x1},${box.y1} does not overlap the ${width}×${height} image`);
  }
  return { x0, y0, x1, y1 };
}

/** `shot.png` cropped at (10, 20), 300×200 → `shot-crop-10-20-300x200.png`; the name says what it holds. */
export function croppedFileName(original: string, box: Box): string {
  const stem = path.basename(original, path.extname(original));
  return `${stem}-crop-${box.x0}-${box.y0}-${box.x1 - box.x0}x${box.y1 - box.y0}.png`;
}

export interface CropResult {
  file: string;
  box: Box;
  width: number;
  height: number;
}

/** Crops `file` to `box` (image pixels) and saves the PNG beside it, or in `outDir` when given. */
export async function cropImageFile(file: string, box: Box, outDir = path.dirname(file)): Promise<CropResult> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    // Orientation-corrected size, since the panel shows the image as a browser does.
    meta = await sharp(file).metadata();
  } catch (err) {
    throw new CropError(`cannot read ${path.basename(file)} as an image: ${(err as Error).message}`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const width = (swap ? meta.height : meta.width) ?? 0;
  const height = (swap ? meta.width : meta.height) ?? 0;
  const b = clampCropBox(box, width, height);
  const out = path.join(outDir, croppedFileName(file, b));
  fs.mkdirSync(outDir, { recursive: true });
  await sharp(file)
    .rotate()
    .extract({ left: b.x0, top: b.y0, width: b.x1 - b.x0, height: b.y1 - b.y0 })
    .png()
    .toFile(out);
  return { file: out, box: b, width: b.x1 - b.x0, height: b.y1 - b.y0 };
}
