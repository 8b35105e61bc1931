import sharp from 'sharp';
import { UsageError } from '../errors';
import type { RgbImage } from '../preprocess/rgb-image';
import type { PixelBox } from './boxes';

/*
 * Candidate UI-element boxes for an arbitrary screenshot. RefExp checkpoints do not find an
 * element, they rank candidate boxes, and RICO supplied those from the view hierarchy; a
 * user's screenshot has none, so the candidates come from the pixels:
 *
 *  1. work on a copy whose longest side is at most `maxSide` (a 4K or 8K capture costs the
 *     same as a laptop screen; boxes are scaled back);
 *  2. per tile, estimate the background: the dominant colour and the usual step between
 *     neighbouring pixels (high in photos and gradients, zero on flat UI backgrounds);
 *  3. foreground = a step between neighbours above the tile's threshold (strokes, outlines),
 *     or, in tiles that are clearly flat, a colour far from the tile's background (soft
 *     shadows and gradients have no sharp step but still stand out);
 *  4. dilate, wider than tall, so letters join into words and words into a line while lines
 *     and neighbouring widgets stay apart; how far depends on the text size, estimated from
 *     the median height of the separate strokes (mostly letters), so a 3x phone capture
 *     joins words as a 1x one does;
 *  5. connected components of the dilated mask; each box is the extent of the undilated
 *     foreground inside it, so the dilation does not inflate it;
 *  6. drop specks, dividers and whole-screen frames, merge near-duplicates and crossing
 *     boxes, keep `maxProposals` (boxes inside no other first, so a busy screen keeps its
 *     small top-level items over the letters inside its avatars; then by size), and return
 *     them in reading order.
 *
 * A filled button gives both its outline and its label: nested boxes are both kept, since a
 * phrase may mean either.
 */

export interface ElementProposalOptions {
  /** At most this many boxes; outermost boxes are kept first, then the largest; default 48. */
  maxProposals?: number;
  /** Longest side of the working copy in pixels; default 1280. */
  maxSide?: number;
  /**
   * Smallest colour step (0..255, any channel) that counts as an edge on a flat background;
   * default 12, low enough for the faint borders of cards (busy tiles raise it themselves).
   */
  minContrast?: number;
  /**
   * Gaps up to twice these (working pixels) are bridged: horizontal, vertical. Default: from
   * the text size, a third and a tenth of the typical letter height, at least 4 and 1.
   */
  joinX?: number;
  joinY?: number;
  /** Boxes narrower or shorter than this many working pixels are dropped; default 4. */
  minSide?: number;
  /** Boxes covering more than this fraction of the screenshot are frames, not elements; default 0.8. */
  maxAreaFraction?: number;
}

const DEFAULTS: Omit<Required<ElementProposalOptions>, 'joinX' | 'joinY'> = {
  maxProposals: 48,
  maxSide: 1280,
  minContrast: 12,
  minSide: 4,
  maxAreaFraction: 0.8,
};

/** Background estimates are made per square tile of this many working pixels. */
const TILE = 16;
/** A tile is "clearly flat" when its dominant colour covers this share of it. */
const FLAT_SHARE = 0.9;
/** In busy tiles (photos), an edge must stand this many times above the tile's median step. */
const NOISE_FACTOR = 3;
/** Components considered for merging, largest first: photos can give thousands of specks. */
const MERGE_POOL = 256;

/** Candidate element boxes in the screenshot's own pixels, in reading order. */
export async function proposeElements(image: RgbImage, options: ElementProposalOptions = {}): Promise<PixelBox[]> {
  // An option given as undefined keeps its default.
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & ElementProposalOptions;
  checkOptions(o);
  if (!Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 || image.height < 1 || image.data.length !== image.width * image.height * 3) {
    throw new UsageError(`expected an RGB image, got ${image.width}x${image.height} with ${image.data.length} bytes`);
  }
  const scale = Math.min(1, o.maxSide / Math.max(image.width, image.height));
  const work = scale < 1 ? await downscale(image, scale) : image;
  const fg = foregroundMask(work, o.minContrast);
  const letter = typicalStrokeHeight(fg, work.width, work.height, o.minSide);
  const joinX = o.joinX ?? Math.max(4, Math.round(letter / 3));
  const joinY = o.joinY ?? Math.max(1, Math.round(letter / 10));
  const grown = dilate(fg, work.width, work.height, joinX, joinY);
  const imageArea = work.width * work.height;
  const kept = componentBoxes(grown, fg, work.width, work.height).filter((b) => {
    const w = b.x1 - b.x0;
    const h = b.y1 - b.y0;
    return w >= o.minSide && h >= o.minSide && w * h <= o.maxAreaFraction * imageArea;
  });
  const pool = kept.sort((a, b) => area(b) - area(a)).slice(0, MERGE_POOL);
  const merged = mergeOverlaps(pool.map((b) => toOriginal(b, work, image)));
  return readingOrder(keepFirst(merged).slice(0, o.maxProposals));
}

function checkOptions(o: ElementProposalOptions): void {
  const whole = (name: keyof ElementProposalOptions, min: number) => {
    const v = o[name];
    if (v === undefined && (name === 'joinX' || name === 'joinY')) return;
    if (!Number.isInteger(v) || v! < min) throw new UsageError(`element proposals: ${name} must be a whole number >= ${min}, got ${o[name]}`);
  };
  whole('maxProposals', 0);
  whole('maxSide', 16);
  whole('minContrast', 1);
  whole('joinX', 0);
  whole('joinY', 0);
  whole('minSide', 1);
  const f = o.maxAreaFraction ?? DEFAULTS.maxAreaFraction;
  if (!(f > 0 && f <= 1)) throw new UsageError(`element proposals: maxAreaFraction must lie in (0, 1], got ${o.maxAreaFraction}`);
}

async function downscale(image: RgbImage, scale: number): Promise<RgbImage> {
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 }, limitInputPixels: false })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, width * height * 3) };
}

/** Largest channel difference between pixels i and j (byte offsets). */
function step(d: Uint8Array, i: number, j: number): number {
  return Math.max(Math.abs(d[i]! - d[j]!), Math.abs(d[i + 1]! - d[j + 1]!), Math.abs(d[i + 2]! - d[j + 2]!));
}

/** 1 where a pixel belongs to something drawn on the background. */
function foregroundMask(image: RgbImage, minContrast: number): Uint8Array {
  const { width: w, height: h, data } = image;
  const fg = new Uint8Array(w * h);
  const counts = new Map<number, number>();
  const steps = new Uint16Array(256);
  for (let ty = 0; ty < h; ty += TILE) {
    for (let tx = 0; tx < w; tx += TILE) {
      const yEnd = Math.min(h, ty + TILE);
      const xEnd = Math.min(w, tx + TILE);
      const pixels = (yEnd - ty) * (xEnd - tx);
      // The tile's background: its dominant colour (5 bits a channel) and its median step.
      counts.clear();
      steps.fill(0);
      for (let y = ty; y < yEnd; y++) {
        for (let x = tx; x < xEnd; x++) {
          const i = (y * w + x) * 3;
          const key = ((data[i]! >> 3) << 10) | ((data[i + 1]! >> 3) << 5) | (data[i + 2]! >> 3);
          counts.set(key, (counts.get(key) ?? 0) + 1);
          if (x + 1 < w) steps[step(data, i, i + 3)]!++;
        }
      }
      let modeKey = 0;
      let modeCount = 0;
      for (const [key, n] of counts) if (n > modeCount) [modeKey, modeCount] = [key, n];
      let seen = 0;
      let median = 0;
      while (median < 255 && (seen += steps[median]!) < pixels / 2) median++;
      const threshold = Math.max(minContrast, NOISE_FACTOR * median);
      const flat = modeCount >= FLAT_SHARE * pixels;
      let bg: [number, number, number] = [0, 0, 0];
      if (flat) {
        let n = 0;
        for (let y = ty; y < yEnd; y++) {
          for (let x = tx; x < xEnd; x++) {
            const i = (y * w + x) * 3;
            if ((((data[i]! >> 3) << 10) | ((data[i + 1]! >> 3) << 5) | (data[i + 2]! >> 3)) !== modeKey) continue;
            bg = [bg[0] + data[i]!, bg[1] + data[i + 1]!, bg[2] + data[i + 2]!];
            n++;
          }
        }
        bg = [bg[0] / n, bg[1] / n, bg[2] / n];
      }
      for (let y = ty; y < yEnd; y++) {
        for (let x = tx; x < xEnd; x++) {
          const p = y * w + x;
          const i = p * 3;
          // A step marks both sides, so a one-pixel line is found whichever side is darker.
          if (x + 1 < w && step(data, i, i + 3) > threshold) fg[p] = fg[p + 1] = 1;
          if (y + 1 < h && step(data, i, i + 3 * w) > threshold) fg[p] = fg[p + w] = 1;
          if (flat && Math.max(Math.abs(data[i]! - bg[0]), Math.abs(data[i + 1]! - bg[1]), Math.abs(data[i + 2]! - bg[2])) > minContrast) fg[p] = 1;
        }
      }
    }
  }
  return fg;
}

/** Binary dilation by a (2rx+1) x (2ry+1) rectangle, as two running-count passes. */
function dilate(mask: Uint8Array, w: number, h: number, rx: number, ry: number): Uint8Array {
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let count = 0;
    for (let x = 0; x < Math.min(rx, w); x++) count += mask[row + x]!;
    for (let x = 0; x < w; x++) {
      if (x + rx < w) count += mask[row + x + rx]!;
      if (x - rx - 1 >= 0) count -= mask[row + x - rx - 1]!;
      rows[row + x] = count > 0 ? 1 : 0;
    }
  }
  const out = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) {
    let count = 0;
    for (let y = 0; y < Math.min(ry, h); y++) count += rows[y * w + x]!;
    for (let y = 0; y < h; y++) {
      if (y + ry < h) count += rows[(y + ry) * w + x]!;
      if (y - ry - 1 >= 0) count -= rows[(y - ry - 1) * w + x]!;
      out[y * w + x] = count > 0 ? 1 : 0;
    }
  }
  return out;
}

/** Median height of the foreground's own connected pieces (letters, on a screen with text); 0 when none. */
function typicalStrokeHeight(fg: Uint8Array, w: number, h: number, minSide: number): number {
  const heights = componentBoxes(fg, fg, w, h)
    .map((b) => b.y1 - b.y0)
    .filter((v) => v >= minSide && v <= h / 8)
    .sort((a, b) => a - b);
  return heights.length ? heights[heights.length >> 1]! : 0;
}

/** Per 4-connected component of `grown`: the bounding box of the `fg` pixels in it. */
function componentBoxes(grown: Uint8Array, fg: Uint8Array, w: number, h: number): PixelBox[] {
  const labels = new Int32Array(w * h).fill(-1);
  const boxes: PixelBox[] = [];
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!grown[start] || labels[start] !== -1) continue;
    const label = boxes.length;
    const box = { x0: w, y0: h, x1: 0, y1: 0 };
    labels[start] = label;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      if (fg[p]) {
        if (x < box.x0) box.x0 = x;
        if (y < box.y0) box.y0 = y;
        if (x + 1 > box.x1) box.x1 = x + 1;
        if (y + 1 > box.y1) box.y1 = y + 1;
      }
      if (x > 0 && grown[p - 1] && labels[p - 1] === -1) (labels[p - 1] = label), stack.push(p - 1);
      if (x + 1 < w && grown[p + 1] && labels[p + 1] === -1) (labels[p + 1] = label), stack.push(p + 1);
      if (y > 0 && grown[p - w] && labels[p - w] === -1) (labels[p - w] = label), stack.push(p - w);
      if (y + 1 < h && grown[p + w] && labels[p + w] === -1) (labels[p + w] = label), stack.push(p + w);
    }
    if (box.x1 > box.x0) boxes.push(box);
  }
  return boxes;
}

function toOriginal(b: PixelBox, work: RgbImage, image: RgbImage): PixelBox {
  if (work === image) return b;
  const sx = image.width / work.width;
  const sy = image.height / work.height;
  return {
    x0: Math.max(0, Math.floor(b.x0 * sx)),
    y0: Math.max(0, Math.floor(b.y0 * sy)),
    x1: Math.min(image.width, Math.ceil(b.x1 * sx)),
    y1: Math.min(image.height, Math.ceil(b.y1 * sy)),
  };
}

const area = (b: PixelBox) => (b.x1 - b.x0) * (b.y1 - b.y0);

function intersection(a: PixelBox, b: PixelBox): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Intersection over union of two boxes. */
export function boxIoU(a: PixelBox, b: PixelBox): number {
  const i = intersection(a, b);
  return i === 0 ? 0 : i / (area(a) + area(b) - i);
}

/**
 * Near-duplicates (IoU >= 0.7) and boxes that cross each other over half the smaller one
 * become their union; a box wholly inside another (a label in its button) stays separate.
 */
function mergeOverlaps(boxes: PixelBox[]): PixelBox[] {
  const out = boxes.slice();
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < out.length && !changed; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const a = out[i]!;
        const b = out[j]!;
        const shared = intersection(a, b);
        if (shared === 0) continue;
        const nested = shared === area(a) || shared === area(b);
        if (boxIoU(a, b) >= 0.7 || (!nested && shared >= 0.5 * Math.min(area(a), area(b)))) {
          out[i] = { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
          out.splice(j, 1);
          changed = true;
          break;
        }
      }
    }
  }
  return out;
}

/** Boxes inside no other box first, then the rest; largest first within each. */
function keepFirst(boxes: PixelBox[]): PixelBox[] {
  const inside = (a: PixelBox) => boxes.some((b) => b !== a && b.x0 <= a.x0 && b.y0 <= a.y0 && b.x1 >= a.x1 && b.y1 >= a.y1);
  const nested = new Set(boxes.filter(inside));
  return boxes.slice().sort((a, b) => Number(nested.has(a)) - Number(nested.has(b)) || area(b) - area(a));
}

/** Rows top to bottom (a box joins a row when its middle lies within the row's first box), left to right in a row. */
function readingOrder(boxes: PixelBox[]): PixelBox[] {
  const middle = (b: PixelBox) => (b.y0 + b.y1) / 2;
  const byMiddle = boxes.slice().sort((a, b) => middle(a) - middle(b) || a.x0 - b.x0);
  const rows: PixelBox[][] = [];
  for (const b of byMiddle) {
    const row = rows[rows.length - 1];
    if (row && middle(b) < row[0]!.y1 && middle(b) >= row[0]!.y0) row.push(b);
    else rows.push([b]);
  }
  return rows.flatMap((row) => row.sort((a, b) => a.x0 - b.x0 || a.y0 - b.y0));
}
