import { UsageError } from '../errors';
import type { RgbImage } from '../preprocess/rgb-image';

/*
 * Widget Captioning and RefExp mark the element in question by drawing its bounding box on
 * the screenshot. pix2struct's converters (convert_widget_captioning.py, convert_refexp.py)
 * call PIL's `ImageDraw.rectangle(..., fill=(0, 0, 255, 0), outline=(0, 0, 255, 255))` with
 * no `width`, so the checkpoints were fine-tuned on a 1-pixel pure-blue outline with the
 * inside untouched (the fill is fully transparent). Those are the defaults here: a thicker
 * line is a different input from the one the models saw.
 *
 * PIL's rectangle takes inclusive corners; boxes here are inclusive-exclusive
 * ([x0, x1) x [y0, y1)), so PIL's (X0, Y0)-(X1, Y1) is { x0: X0, y0: Y0, x1: X1 + 1, y1: Y1 + 1 }.
 * With `width` > 1 the line grows inwards, as PIL's does.
 */

/** Pixel box, inclusive-exclusive: the outline covers columns x0..x1-1 and rows y0..y1-1. */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Box as fractions of the image size (0..1), the way RefExp's tfrecords store it. */
export interface NormalizedBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type Rgb = readonly [number, number, number];

export interface DrawBoxOptions {
  /** Outline colour; default pure blue, as pix2struct drew it. */
  color?: Rgb;
  /** Line width in pixels, drawn inside the box; default 1, as pix2struct drew it. */
  width?: number;
}

export const DEFAULT_BOX_COLOR: Rgb = [0, 0, 255];
export const DEFAULT_BOX_WIDTH = 1;

/**
 * A copy of `image` with the outline of `box` drawn on it. Parts of the box outside the image
 * are clipped (a box may even lie wholly outside); the input is never modified.
 */
export function drawBox(image: RgbImage, box: PixelBox, options: DrawBoxOptions = {}): RgbImage {
  checkImage(image);
  checkPixelBox(box);
  const color = options.color ?? DEFAULT_BOX_COLOR;
  checkColor(color);
  const lineWidth = options.width ?? DEFAULT_BOX_WIDTH;
  if (!Number.isInteger(lineWidth) || lineWidth < 1) {
    throw new UsageError(`box line width must be a whole number of pixels >= 1, got ${lineWidth}`);
  }

  const out: RgbImage = { width: image.width, height: image.height, data: image.data.slice() };
  const { x0, y0, x1, y1 } = box;
  const fillRow = (y: number, from: number, to: number) => {
    const start = Math.max(from, 0);
    const end = Math.min(to, image.width);
    for (let x = start; x < end; x++) {
      const i = (y * image.width + x) * 3;
      out.data[i] = color[0];
      out.data[i + 1] = color[1];
      out.data[i + 2] = color[2];
    }
  };
  for (let y = Math.max(y0, 0); y < Math.min(y1, image.height); y++) {
    if (y < y0 + lineWidth || y >= y1 - lineWidth) {
      fillRow(y, x0, x1); // top or bottom band: the full span
    } else {
      // Sides only; when the bands meet (a box narrower than two lines) they cover it all.
      fillRow(y, x0, Math.min(x0 + lineWidth, x1));
      fillRow(y, Math.max(x1 - lineWidth, x0), x1);
    }
  }
  return out;
}

/**
 * RefExp's conversion of a normalised box to pixels: each corner is `round(fraction * size)`
 * with Python's round (half to even), and PIL then draws both corners inclusively.
 * RefExp stores the fractions as float32; pass `Math.fround(v)` to reproduce its rounding
 * exactly at the .5 boundaries.
 */
export function normalizedToPixelBox(box: NormalizedBox, imageWidth: number, imageHeight: number): PixelBox {
  checkSize(imageWidth, imageHeight);
  checkOrdered(box, 'normalized box');
  for (const [name, v] of Object.entries(box)) {
    if (v < 0 || v > 1) throw new UsageError(`normalized box ${name} must lie in 0..1, got ${v}`);
  }
  return {
    x0: roundHalfEven(box.x0 * imageWidth),
    y0: roundHalfEven(box.y0 * imageHeight),
    x1: roundHalfEven(box.x1 * imageWidth) + 1,
    y1: roundHalfEven(box.y1 * imageHeight) + 1,
  };
}

/**
 * The inverse of normalizedToPixelBox: the outline's corner pixels (x0 and x1 - 1, which PIL
 * would be given) as fractions of the image size, so that converting back gives the same box.
 */
export function pixelToNormalizedBox(box: PixelBox, imageWidth: number, imageHeight: number): NormalizedBox {
  checkSize(imageWidth, imageHeight);
  checkPixelBox(box);
  return {
    x0: box.x0 / imageWidth,
    y0: box.y0 / imageHeight,
    x1: (box.x1 - 1) / imageWidth,
    y1: (box.y1 - 1) / imageHeight,
  };
}

/** RICO's view hierarchy uses a 1440 x 2560 canvas whatever the screenshot's size. */
export const RICO_CANVAS_HEIGHT = 2560;

/**
 * Widget Captioning's conversion of a RICO node's `bounds` [left, top, right, bottom] (canvas
 * units) to pixels: every value is scaled by imageHeight / 2560 (x too: RICO screenshots keep
 * the canvas aspect ratio) and PIL truncates the float corners towards zero.
 */
export function ricoBoundsToPixelBox(
  bounds: readonly [number, number, number, number],
  imageHeight: number,
  canvasHeight = RICO_CANVAS_HEIGHT,
): PixelBox {
  checkSize(1, imageHeight);
  if (!(canvasHeight > 0)) throw new UsageError(`RICO canvas height must be positive, got ${canvasHeight}`);
  const [left, top, right, bottom] = bounds.map((v) => {
    if (!Number.isFinite(v)) throw new UsageError(`RICO bounds must be finite numbers, got ${v}`);
    // Same float expression as the converter: (v * height) / canvas.
    return Math.trunc((v * imageHeight) / canvasHeight);
  }) as [number, number, number, number];
  checkOrdered({ x0: left, y0: top, x1: right, y1: bottom }, 'RICO bounds');
  return { x0: left, y0: top, x1: right + 1, y1: bottom + 1 };
}

/** Python 3's round(): halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkPixelBox(box: PixelBox): void {
  for (const [name, v] of Object.entries(box)) {
    if (!Number.isInteger(v)) throw new UsageError(`box ${name} must be a whole number of pixels, got ${v}`);
  }
  if (box.x1 <= box.x0 || box.y1 <= box.y0) {
    throw new UsageError(
      `box must have x0 < x1 and y0 < y1 (inclusive-exclusive pixels), got x0=${box.x0} y0=${box.y0} x1=${box.x1} y1=${box.y1}`,
    );
  }
}

function checkOrdered(box: NormalizedBox, what: string): void {
  for (const [name, v] of Object.entries(box)) {
    if (!Number.isFinite(v)) throw new UsageError(`${what} ${name} must be a finite number, got ${v}`);
  }
  if (box.x1 < box.x0 || box.y1 < box.y0) {
    throw new UsageError(`${what} must have x0 <= x1 and y0 <= y1, got x0=${box.x0} y0=${box.y0} x1=${box.x1} y1=${box.y1}`);
  }
}

function checkColor(color: Rgb): void {
  if (color.length !== 3 || color.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
    throw new UsageError(`box colour must be three integers in 0..255, got [${color.join(', ')}]`);
  }
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new UsageError(`image size must be positive whole numbers, got ${width}x${height}`);
  }
}

function checkImage(image: RgbImage): void {
  checkSize(image.width, image.height);
  if (image.data.length !== image.width * image.height * 3) {
    throw new UsageError(`image data has ${image.data.length} bytes, expected ${image.width}x${image.height}x3`);
  }
}
