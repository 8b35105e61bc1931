import * as fs from 'node:fs';
import * as path from 'node:path';
import opentype from 'opentype.js';
import sharp from 'sharp';
import type { RgbImage } from './rgb-image';
import { wrapHeaderText } from './text-wrap';

/*
 * The VQA header of transformers' Pix2StructImageProcessor (render_text + render_header):
 * the question is wrapped at 80 columns, drawn black on white in Liberation Sans at 36 px
 * with 5 px padding, and stacked above the image after both are resized to a common width.
 *
 * The canvas size must equal PIL's exactly (it decides the patch grid), so layout follows
 * PIL 9.4's FreeType code: hinted advances rounded to whole pixels, each glyph's control box
 * grown to whole pixels, the box starting at the pen origin, lines 4 px apart. Pixels are
 * rasterised by librsvg (through sharp) instead of FreeType, so they are close to PIL's but
 * not identical; to get close, glyphs use FreeType 2.12's hinting style: vertical hints
 * applied (from opentype.js's TrueType interpreter), horizontal positions left unhinted.
 *
 * This is PIL's basic layout (no kerning: the font has no 'kern' table). A PIL built with
 * libraqm uses that instead by default, kerning through GPOS with fractional advances, so a
 * kerned or long question can come out a few pixels narrower or wider there; the fixture's
 * question measures the same under both.
 */

const FONT_FILE = 'LiberationSans-Regular.ttf';
const TEXT_SIZE = 36;
const PADDING = 5;
/** ImageDraw.multiline_text's default gap between lines. */
const LINE_GAP = 4;

/** The bundled font: next to the sources in the repo, or in dist/assets when bundled into dist/cli.js. */
export function headerFontPath(): string {
  const candidates = [path.join(__dirname, '../../assets/fonts', FONT_FILE), path.join(__dirname, 'assets/fonts', FONT_FILE)];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`VQA header font ${FONT_FILE} not found; looked in ${candidates.join(' and ')}`);
  return found;
}

/** render_text: the header image PIL would draw for `text`. */
export async function renderHeaderText(text: string): Promise<RgbImage> {
  const face = loadFace();
  const lines = wrapHeaderText(text);
  const layout = layoutLines(face, lines);
  const width = layout.right + 2 * PADDING;
  const height = layout.bottom + 2 * PADDING;
  return rasterise(layout, width, height);
}

// ---------------------------------------------------------------------------------------
// Font metrics, the way FreeType reports them to PIL's basic layout at 36 px.
// ---------------------------------------------------------------------------------------

interface Face {
  font: opentype.Font;
  /** font units to 26.6 pixels, as a 16.16 fixed-point factor like FreeType's x_scale. */
  scale16: number;
  ascender: number; // whole pixels
  glyphs: Map<number, GlyphShape>;
}

interface OutlinePoint {
  x: number; // pixels, y up, multiples of 1/64
  y: number;
  onCurve: boolean;
  lastPointOfContour: boolean;
}

interface GlyphShape {
  advance: number; // whole pixels
  points: OutlinePoint[];
  // Control box in whole pixels (outward rounded); undefined for blank glyphs.
  box?: { xMin: number; yMin: number; xMax: number; yMax: number };
}

let cachedFace: Face | undefined;

function loadFace(): Face {
  if (cachedFace) return cachedFace;
  const bytes = fs.readFileSync(headerFontPath());
  const font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const scale16 = Math.round((TEXT_SIZE * 64 * 65536) / font.unitsPerEm);
  // FreeType rounds the scaled hhea ascender to whole pixels for hinted TrueType fonts.
  const ascender = pixRound(mulFix(font.ascender, scale16)) / 64;
  // opentype.js prints the first failing glyph program (this font's U+266B) to stdout, which
  // would corrupt the CLI's output; claiming an earlier failure silences it and changes nothing else.
  const hinting = (font as unknown as FontInternals).hinting;
  if (hinting && hinting._errorState === 0) hinting._errorState = 1;
  cachedFace = { font, scale16, ascender, glyphs: new Map() };
  return cachedFace;
}

/** FreeType's FT_MulFix: a * b / 65536 rounded to nearest, halves away from zero. */
function mulFix(a: number, b16: number): number {
  const product = a * b16;
  return Math.sign(product) * Math.floor((Math.abs(product) + 0x8000) / 65536);
}

const pixRound = (v26: number): number => Math.floor((v26 + 32) / 64) * 64;
const pixFloor = (v26: number): number => Math.floor(v26 / 64);
const pixCeil = (v26: number): number => Math.ceil(v26 / 64);

function glyphShape(face: Face, glyph: opentype.Glyph): GlyphShape {
  let shape = face.glyphs.get(glyph.index);
  if (!shape) {
    const points = outlinePoints(face, glyph);
    const advance = pixRound(mulFix(glyph.advanceWidth ?? 0, face.scale16)) / 64;
    shape = { advance, points, ...(points.length > 0 ? { box: controlBox(points) } : {}) };
    face.glyphs.set(glyph.index, shape);
  }
  return shape;
}

interface RawPoint {
  x: number;
  y: number;
  onCurve: boolean;
  lastPointOfContour: boolean;
}

/** opentype.js internals the typings do not declare: outline points and the TrueType interpreter. */
interface GlyphInternals {
  points?: RawPoint[];
}
interface FontInternals {
  hinting?: {
    exec(glyph: opentype.Glyph, ppem: number): RawPoint[] | undefined;
    /** 0 ok, 1 a glyph program failed (that glyph comes back unhinted), 2+ hinting disabled. */
    _errorState: number;
  };
}

/**
 * Unhinted x (scaled to 26.6 like FreeType) with hinted y: FreeType's default (v40) TrueType
 * interpreter ignores horizontal hints, and PIL's bounding boxes agree with this mix.
 */
function outlinePoints(face: Face, glyph: opentype.Glyph): OutlinePoint[] {
  void glyph.path; // opentype.js fills in `points` lazily while building the path
  const raw = (glyph as unknown as GlyphInternals).points ?? [];
  if (raw.length === 0) return [];
  const hinted = hintedPoints(face, glyph);
  const useHinted = hinted !== undefined && hinted.length === raw.length;
  return raw.map((p, i) => ({
    x: mulFix(p.x, face.scale16) / 64,
    y: useHinted ? Math.round(hinted[i]!.y * 64) / 64 : mulFix(p.y, face.scale16) / 64,
    onCurve: p.onCurve,
    lastPointOfContour: p.lastPointOfContour,
  }));
}

function hintedPoints(face: Face, glyph: opentype.Glyph): RawPoint[] | undefined {
  try {
    return (face.font as unknown as FontInternals).hinting?.exec(glyph, TEXT_SIZE);
  } catch {
    return undefined; // a glyph program the interpreter cannot run: fall back to unhinted
  }
}

/** FT_Glyph_Get_CBox with FT_GLYPH_BBOX_PIXELS: all points, off-curve ones included, rounded outward. */
function controlBox(points: OutlinePoint[]): { xMin: number; yMin: number; xMax: number; yMax: number } {
  const xs = points.map((p) => p.x * 64);
  const ys = points.map((p) => p.y * 64);
  return {
    xMin: pixFloor(Math.min(...xs)),
    yMin: pixFloor(Math.min(...ys)),
    xMax: pixCeil(Math.max(...xs)),
    yMax: pixCeil(Math.max(...ys)),
  };
}

// ---------------------------------------------------------------------------------------
// Layout: ImageDraw.textbbox / multiline_textbbox at (0, 0), anchor "la", basic layout.
// ---------------------------------------------------------------------------------------

interface PlacedGlyph {
  shape: GlyphShape;
  x: number; // pen position, whole pixels from the left of the text box
  baseline: number; // whole pixels from the top of the text box
}

interface TextLayout {
  glyphs: PlacedGlyph[];
  right: number;
  bottom: number;
}

/** One line's pen positions and its box right/bottom edges, with the line's top at 0. */
function layoutLine(face: Face, line: string): { glyphs: { shape: GlyphShape; x: number }[]; right: number; bottom: number } {
  const glyphs: { shape: GlyphShape; x: number }[] = [];
  // PIL gives an empty line a zero box at its top-left corner, not a baseline-deep one.
  if (line === '') return { glyphs, right: 0, bottom: 0 };
  // PIL starts the box at the pen origin, so it always contains (0, baseline).
  let pen = 0;
  let right = 0;
  let lowest = 0;
  for (const c of line) {
    // The basic layout maps characters one to one and, without a 'kern' table, does not kern.
    const shape = glyphShape(face, face.font.charToGlyph(c));
    glyphs.push({ shape, x: pen });
    if (shape.box) {
      right = Math.max(right, pen + shape.box.xMax);
      lowest = Math.min(lowest, shape.box.yMin);
    }
    pen += shape.advance;
    right = Math.max(right, pen);
  }
  return { glyphs, right, bottom: face.ascender - lowest };
}

function layoutLines(face: Face, lines: string[]): TextLayout {
  // PIL measures line pitch as the bottom of "A"'s box plus the spacing.
  const pitch = layoutLine(face, 'A').bottom + LINE_GAP;
  const layout: TextLayout = { glyphs: [], right: 0, bottom: 0 };
  // An empty string is still one (empty) line to PIL.
  const text = lines.length > 0 ? lines : [''];
  text.forEach((line, i) => {
    const top = i * pitch;
    const measured = layoutLine(face, line);
    for (const g of measured.glyphs) layout.glyphs.push({ ...g, baseline: top + face.ascender });
    layout.right = Math.max(layout.right, measured.right);
    layout.bottom = Math.max(layout.bottom, top + measured.bottom);
  });
  return layout;
}

// ---------------------------------------------------------------------------------------
// Rasterisation: glyph outlines as SVG paths, drawn by librsvg through sharp.
// ---------------------------------------------------------------------------------------

async function rasterise(layout: TextLayout, width: number, height: number): Promise<RgbImage> {
  const paths = layout.glyphs
    .filter((g) => g.shape.points.length > 0)
    .map((g) => `<path d="${svgPathData(g.shape.points, PADDING + g.x, PADDING + g.baseline)}"/>`);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="#fff"/><g fill="#000" fill-rule="nonzero">${paths.join('')}</g></svg>`;
  const { data, info } = await sharp(Buffer.from(svg), { density: 72 })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`header rasterised to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
  }
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** TrueType quadratic contours to SVG path data; consecutive off-curve points imply an on-curve midpoint. */
function svgPathData(points: OutlinePoint[], originX: number, baselineY: number): string {
  const fmt = (p: { x: number; y: number }): string => `${originX + p.x} ${baselineY - p.y}`;
  const mid = (a: OutlinePoint, b: OutlinePoint): { x: number; y: number } => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  let d = '';
  for (const contour of contours(points)) {
    const n = contour.length;
    // Start on an on-curve point if there is one, else at the midpoint of the first two.
    const startIndex = contour.findIndex((p) => p.onCurve);
    const start = startIndex >= 0 ? contour[startIndex]! : mid(contour[0]!, contour[1 % n]!);
    const offset = startIndex >= 0 ? startIndex : 0;
    d += `M${fmt(start)}`;
    for (let k = 1; k <= n; k++) {
      const p = contour[(offset + k) % n]!;
      if (p.onCurve) {
        d += `L${fmt(p)}`;
        continue;
      }
      const next = contour[(offset + k + 1) % n]!;
      const isLast = startIndex < 0 && k === n;
      const end = isLast ? start : next.onCurve ? next : mid(p, next);
      d += `Q${fmt(p)} ${fmt(end)}`;
      if (next.onCurve && !isLast) k++;
    }
    d += 'Z';
  }
  return d;
}

function contours(points: OutlinePoint[]): OutlinePoint[][] {
  const out: OutlinePoint[][] = [];
  let current: OutlinePoint[] = [];
  for (const p of points) {
    current.push(p);
    if (p.lastPointOfContour) {
      out.push(current);
      current = [];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}
