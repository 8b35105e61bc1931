/**
 * Recognises what a file is from its first bytes, whatever its name says, so that a PDF or a
 * web page saved as .png gets a message about what it is and what to do rather than a
 * decoder's "unsupported image format".
 */

/** Formats decodeImage reads: libvips's (through sharp) and BMP, which has its own reader. */
export type DecodableFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'avif' | 'heic' | 'svg' | 'bmp';

export type Sniffed =
  /** `name` is what users call the format, for messages ("PNG"). */
  | { kind: 'image'; format: DecodableFormat; name: string }
  /** `reason` says what the file is and what to do, e.g. "a PDF document, not an image — …". */
  | { kind: 'other'; reason: string };

const FORMAT_NAMES: Record<DecodableFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  webp: 'WebP',
  tiff: 'TIFF',
  avif: 'AVIF',
  heic: 'HEIC',
  svg: 'SVG',
  bmp: 'BMP',
};

const image = (format: DecodableFormat): Sniffed => ({ kind: 'image', format, name: FORMAT_NAMES[format] });
const other = (reason: string): Sniffed => ({ kind: 'other', reason });

const CONVERT = 'convert it to PNG or JPEG first';
const unsupportedImage = (what: string) => other(`${what}, a format this reader does not support — ${CONVERT}`);
const document = (what: string, advice: string) => other(`${what}, not an image — ${advice}`);

/** True when `bytes` (numbers, or a latin1 string) occur in `head` at `offset`. */
function at(head: Uint8Array, offset: number, bytes: readonly number[] | string): boolean {
  const want = typeof bytes === 'string' ? Array.from(bytes, (c) => c.charCodeAt(0)) : bytes;
  if (head.length < offset + want.length) return false;
  return want.every((b, i) => head[offset + i] === b);
}

const latin1 = (head: Uint8Array, start = 0, end = head.length) => Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1', start, end);

/** Binary formats recognised by fixed bytes, most specific first. */
const SIGNATURES: readonly { matches: (h: Uint8Array) => boolean; result: Sniffed | ((h: Uint8Array, fileName: string) => Sniffed) }[] = [
  { matches: (h) => at(h, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), result: image('png') },
  { matches: (h) => at(h, 0, [0xff, 0xd8]), result: image('jpeg') }, // a JPEG cut after its first marker is still one
  { matches: (h) => at(h, 0, 'GIF87a') || at(h, 0, 'GIF89a'), result: image('gif') },
  { matches: (h) => at(h, 0, 'RIFF') && at(h, 8, 'WEBP'), result: image('webp') },
  { matches: (h) => at(h, 0, 'II*\0') || at(h, 0, 'MM\0*') || at(h, 0, 'II+\0') || at(h, 0, 'MM\0+'), result: image('tiff') },
  { matches: looksLikeBmp, result: image('bmp') },
  { matches: (h) => at(h, 4, 'ftyp'), result: isoMediaKind },
  { matches: (h) => latin1(h, 0, 1024).includes('%PDF-'), result: document('a PDF document', 'export the page you need as PNG first') },
  { matches: (h) => at(h, 0, '%!PS'), result: document('a PostScript document', 'export the page you need as PNG first') },
  { matches: (h) => at(h, 0, 'PK\x03\x04') || at(h, 0, 'PK\x05\x06'), result: zipKind },
  { matches: (h) => at(h, 0, [0x1f, 0x8b]), result: (_h, name) => (/\.svgz$/i.test(name) ? image('svg') : document('gzip-compressed data', 'decompress it first')) },
  { matches: (h) => at(h, 0, "7z\xbc\xaf'\x1c") || at(h, 0, 'Rar!\x1a\x07') || at(h, 0, '\xfd7zXZ\0') || at(h, 0, 'BZh') || at(h, 0, [0x28, 0xb5, 0x2f, 0xfd]), result: document('a compressed archive', 'extract the image from it first') },
  { matches: (h) => at(h, 0, '\x7fELF') || (at(h, 0, 'MZ') && !isText(h)) || at(h, 0, [0xcf, 0xfa, 0xed, 0xfe]) || at(h, 0, [0xfe, 0xed, 0xfa, 0xcf]) || at(h, 0, '\0asm'), result: document('a program', 'pass an image file') },
  { matches: (h) => at(h, 0, 'SQLite format 3\0'), result: document('an SQLite database', 'pass an image file') },
  { matches: (h) => at(h, 0, '8BPS'), result: document('a Photoshop document', 'export it as PNG first') },
  { matches: (h) => at(h, 0, 'gimp xcf'), result: document('a GIMP document', 'export it as PNG first') },
  { matches: (h) => at(h, 0, [0xff, 0x0a]) || at(h, 4, 'JXL \r\n\x87\n'), result: unsupportedImage('a JPEG XL image') },
  { matches: (h) => at(h, 4, 'jP  \r\n\x87\n') || at(h, 0, [0xff, 0x4f, 0xff, 0x51]), result: unsupportedImage('a JPEG 2000 image') },
  { matches: (h) => at(h, 0, [0, 0, 1, 0]) || at(h, 0, [0, 0, 2, 0]), result: unsupportedImage('a Windows icon (ICO/CUR)') },
  { matches: (h) => /^P[1-7]\s/.test(latin1(h, 0, 3)), result: unsupportedImage('a Netpbm (PBM/PGM/PPM) image') },
  { matches: (h) => at(h, 0, [0x76, 0x2f, 0x31, 0x01]), result: unsupportedImage('an OpenEXR image') },
  { matches: (h) => at(h, 0, '#?RADIANCE') || at(h, 0, '#?RGBE'), result: unsupportedImage('a Radiance HDR image') },
  { matches: (h) => at(h, 0, 'qoif'), result: unsupportedImage('a QOI image') },
  { matches: (h) => at(h, 128, 'DICM'), result: unsupportedImage('a DICOM medical image') },
  { matches: (h) => at(h, 0, 'RIFF') && (at(h, 8, 'WAVE') || at(h, 8, 'AVI ')), result: (h) => document(at(h, 8, 'WAVE') ? 'a WAV audio file' : 'an AVI video', 'pass an image file (for a video, a screenshot of the frame you want)') },
  { matches: (h) => at(h, 0, [0x1a, 0x45, 0xdf, 0xa3]), result: document('a Matroska/WebM video', 'take a screenshot of the frame you want') },
  { matches: (h) => at(h, 0, 'ID3') || at(h, 0, 'OggS') || at(h, 0, 'fLaC'), result: document('an audio file', 'pass an image file') },
];

/** What `head` (the first bytes of a file) holds; `fileName` only tells .svgz from other gzip data. */
export function sniffImage(head: Uint8Array, fileName = ''): Sniffed {
  for (const { matches, result } of SIGNATURES) {
    if (matches(head)) return typeof result === 'function' ? result(head, fileName) : result;
  }
  return textKind(head) ?? other(`not an image this reader recognises (PNG, JPEG, GIF, WebP, TIFF, BMP, AVIF or SVG); it starts with the bytes ${hexStart(head)}`);
}

/** "BM" alone is two letters of text: a BMP also has a known info-header size at offset 14. */
function looksLikeBmp(h: Uint8Array): boolean {
  if (!at(h, 0, 'BM') || h.length < 18) return false;
  const headerSize = h[14]! | (h[15]! << 8) | (h[16]! << 16) | (h[17]! << 24);
  return [12, 16, 40, 52, 56, 64, 108, 124].includes(headerSize);
}

/** ISO base media files (ftyp box): AVIF and HEIC stills, or MP4/MOV/3GP video and M4A audio. */
function isoMediaKind(h: Uint8Array): Sniffed {
  const boxSize = Math.min(((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0, h.length);
  const brands = new Set<string>();
  for (let i = 8; i + 4 <= boxSize; i += 4) if (i !== 12) brands.add(latin1(h, i, i + 4)); // 12..16 is the minor version
  if (brands.has('avif') || brands.has('avis')) return image('avif');
  if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1'].some((b) => brands.has(b))) return image('heic');
  if (['crx ', 'cr3 '].some((b) => brands.has(b))) return unsupportedImage('a camera raw file (CR3)');
  if (['M4A ', 'M4B ', 'M4P '].some((b) => brands.has(b))) return document('an audio file', 'pass an image file');
  return document('a video (MP4/MOV)', 'take a screenshot of the frame you want');
}

/** ZIP archives, including the Office and OpenDocument files that are ZIP archives inside. */
function zipKind(h: Uint8Array): Sniffed {
  const text = latin1(h);
  if (text.includes('[Content_Types].xml') || /(^|\/)(word|xl|ppt)\//.test(text)) return document('an Office document (Word, Excel or PowerPoint)', 'save the picture inside it as PNG first');
  if (text.includes('mimetypeapplication/vnd.oasis.opendocument')) return document('an OpenDocument file', 'save the picture inside it as PNG first');
  if (text.includes('mimetypeapplication/epub+zip')) return document('an EPUB e-book', 'save the picture inside it as PNG first');
  return document('a ZIP archive', 'extract the image from it first');
}

/** SVG, HTML, XML, JSON and plain text, recognised only when the bytes are text. */
function textKind(h: Uint8Array): Sniffed | null {
  if (at(h, 0, [0xff, 0xfe]) || at(h, 0, [0xfe, 0xff])) return document('a text file (UTF-16)', 'pass an image file');
  if (!isText(h)) return null;
  const text = latin1(h).replace(/^\xef\xbb\xbf/, '').trimStart();
  if (/<svg[\s>]/i.test(text) && /^(<\?xml|<!--|<!doctype svg|<svg)/i.test(text)) return image('svg');
  if (/^(<!doctype html|<head[\s>]|<body[\s>])/i.test(text) || /<html[\s>]/i.test(text)) {
    return document('a web page (HTML)', 'save the image itself (right-click it in the browser → Save Image As)');
  }
  if (text.startsWith('<')) return document('an XML file', 'pass an image file');
  if (text.startsWith('{') || text.startsWith('[')) return document('a JSON file', 'pass an image file');
  if (text.startsWith('#!')) return document('a script', 'pass an image file');
  return document('a text file', 'pass an image file');
}

/** Valid UTF-8 (ASCII included) with no NUL and hardly any control characters. */
function isText(h: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(h, { stream: true }); // stream: a character cut at the end is fine
  } catch {
    return false;
  }
  let control = 0;
  for (const b of h) {
    if (b === 0) return false;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) control++;
  }
  return control <= h.length / 100;
}

function hexStart(h: Uint8Array): string {
  return Array.from(h.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
