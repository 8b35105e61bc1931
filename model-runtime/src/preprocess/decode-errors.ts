import { ImageError } from '../errors';

const REDO = 're-save or re-download it';

/**
 * Turns a libvips failure (through sharp) into one line that says what is wrong with the file
 * and what to do. libvips reports each decoder's messages as they came, so the raw text can
 * be empty ("corrupt header:"), repeat a libjpeg message several times, or list the seeks
 * that failed; `formatName` is what the file's first bytes say it is ("PNG").
 */
export function decodeFailure(label: string, formatName: string, err: unknown, inputPath?: string): ImageError {
  const raw = err instanceof Error ? err.message : String(err);
  const detail = cleanDetail(inputPath ? raw.split(`${inputPath}: `).join('') : raw);
  const reason = explain(formatName, raw, detail);
  return new ImageError(label, reason, { cause: err });
}

function explain(formatName: string, raw: string, detail: string): string {
  const because = detail ? ` (${detail})` : '';
  if (/entity amplification|entity reference loop|entities? .*(limit|exceed)/i.test(raw)) {
    return 'an SVG whose XML entities expand without bound (a "billion laughs" file); it was not rendered';
  }
  if (/timeout/i.test(raw)) return `the ${formatName} took too long to decode and was stopped — convert it to PNG first`;
  // sharp's libheif has no HEVC decoder: a HEIC that fails is one it cannot decode, whatever libheif's words.
  if (formatName === 'HEIC') return 'a HEIC image, which this reader cannot decode — convert it to JPEG or PNG first';
  if (/premature end|unexpected end|end of (file|data|stream|input)|truncat|bad seek|not enough data|short read|read error/i.test(raw)) {
    return `truncated or damaged ${formatName} data${because} — ${REDO}`;
  }
  if (formatName === 'SVG' && /XML parse error/i.test(raw)) return `a damaged SVG file (not well-formed XML${detail ? `: ${detail}` : ''}) — fix or re-export it`;
  return `a damaged ${formatName} file${because} — ${REDO}`;
}

/** Module prefixes libvips puts in front of its decoders' messages. */
const PREFIXES =
  /^(Input (file|buffer) (has corrupt header|contains unsupported image format|is missing)|VipsJpeg|jpeg2vips|vipspng|png2vips|gifload\w*|webp\w*|tiff2vips|tiff\w*|heif\w*|svgload\w*|glib|source|VipsForeignLoad\w*|vips\w*):\s*/i;

/** The decoders' own words, once each, on one line, without libvips's bookkeeping. */
function cleanDetail(raw: string): string {
  const seen = new Set<string>();
  for (let line of raw.split(/\r?\n/)) {
    for (let before = ''; before !== line; ) {
      before = line;
      line = line.replace(PREFIXES, '').trim();
    }
    line = line.replace(/^XML parse error: .*? of data: /i, '');
    if (line === '' || /bad seek to \d+$/i.test(line) || /unsupported image format|^(libpng read error|unknown error)$/i.test(line)) continue;
    seen.add(line.replace(/[.\s]+$/, ''));
  }
  const text = [...seen].join('; ');
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
