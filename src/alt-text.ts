/**
 * Image references in Markdown (`![alt](src "title")`) and HTML (`<img src=… alt=…>`): finding
 * them in a document's text, resolving their src against the document, and the text edits that
 * replace their alt text or add a new reference. No vscode imports, so it is unit-tested in Node.
 */
import * as path from 'node:path';

export type ReferenceKind = 'markdown' | 'html';

export interface ImageReference {
  kind: ReferenceKind;
  /** Offsets into the text; end exclusive. */
  start: number;
  end: number;
  /** The src as written (Markdown angle brackets removed, nothing decoded). */
  src: string;
  /** The current alt text, unescaped. */
  alt: string;
  /** The span the new alt replaces: Markdown: inside the brackets; HTML: the whole attribute value with its quotes, or an empty span after `<img` when there is none. */
  altStart: number;
  altEnd: number;
  hasAlt: boolean;
}

export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

// Markdown alt may hold escaped characters and one level of balanced brackets.
const MARKDOWN_IMAGE = /!\[((?:\\.|\[(?:\\.|[^\]\\])*\]|[^\]\\])*)\]\(\s*(<[^>\n]*>|[^\s)]+)(?:\s+(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\([^)]*\)))?\s*\)/g;
const HTML_IMAGE = /<img\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
const HTML_ATTRIBUTE = /([^\s=/>"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?/g;

const unescapeMarkdown = (s: string) => s.replace(/\\([!-/:-@[-`{-~])/g, '$1');

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: '\u00a0' };
export function decodeHtmlEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[body.toLowerCase()] ?? m;
  });
}

function markdownReferences(text: string): ImageReference[] {
  const refs: ImageReference[] = [];
  for (const m of text.matchAll(MARKDOWN_IMAGE)) {
    const start = m.index!;
    const rawSrc = m[2]!;
    refs.push({
      kind: 'markdown',
      start,
      end: start + m[0].length,
      src: rawSrc.startsWith('<') ? rawSrc.slice(1, -1) : rawSrc,
      alt: unescapeMarkdown(m[1]!),
      altStart: start + 2,
      altEnd: start + 2 + m[1]!.length,
      hasAlt: true,
    });
  }
  return refs;
}

function htmlReferences(text: string): ImageReference[] {
  const refs: ImageReference[] = [];
  for (const m of text.matchAll(HTML_IMAGE)) {
    const start = m.index!;
    const tag = m[0];
    let src: string | undefined;
    let alt: { value: string; start: number; end: number } | undefined;
    // Attributes start after "<img"; a value's offset is found from the attribute match.
    for (const a of tag.slice(4).matchAll(HTML_ATTRIBUTE)) {
      const name = a[1]!.toLowerCase();
      const raw = a[2];
      if (raw === undefined) continue;
      const value = decodeHtmlEntities(raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1) : raw);
      const valueStart = start + 4 + a.index! + a[0].length - raw.length;
      if (name === 'src' && src === undefined) src = value;
      if (name === 'alt' && alt === undefined) alt = { value, start: valueStart, end: valueStart + raw.length };
    }
    if (src === undefined) continue;
    refs.push({
      kind: 'html',
      start,
      end: start + tag.length,
      src,
      alt: alt?.value ?? '',
      altStart: alt?.start ?? start + 4,
      altEnd: alt?.end ?? start + 4,
      hasAlt: alt !== undefined,
    });
  }
  return refs;
}

/** Every image reference in the text, in document order. */
export function findImageReferences(text: string): ImageReference[] {
  return [...markdownReferences(text), ...htmlReferences(text)].sort((a, b) => a.start - b.start);
}

/** The reference the offset lies in (its end counts, so a cursor right after `)` or `>` finds it). */
export function referenceAt(text: string, offset: number): ImageReference | undefined {
  return findImageReferences(text).find((r) => offset >= r.start && offset <= r.end);
}

/** Alt text is one line; Markdown would read brackets, backslashes and emphasis marks in it. */
export function escapeMarkdownAlt(alt: string): string {
  return alt.replace(/\s+/g, ' ').trim().replace(/[\\[\]*_`]/g, (c) => `\\${c}`);
}

/** Safe inside a double- or single-quoted attribute value. */
export function escapeHtmlAttribute(value: string): string {
  return value
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** The edit that makes `alt` the reference's alt text. */
export function replaceAltEdit(ref: ImageReference, alt: string): TextEdit {
  if (ref.kind === 'markdown') return { start: ref.altStart, end: ref.altEnd, newText: escapeMarkdownAlt(alt) };
  const quoted = `"${escapeHtmlAttribute(alt)}"`;
  return ref.hasAlt ? { start: ref.altStart, end: ref.altEnd, newText: quoted } : { start: ref.altStart, end: ref.altEnd, newText: ` alt=${quoted}` };
}

/** A src for a new reference: relative to the document when it has a folder, with `/` separators. */
export function referenceSrc(imagePath: string, documentPath: string | undefined, platformPath: typeof path = path): string {
  const relative = documentPath ? platformPath.relative(platformPath.dirname(documentPath), imagePath) : imagePath;
  const posix = relative.split(platformPath.sep).join('/');
  return encodeURI(posix).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function newImageReference(kind: ReferenceKind, src: string, alt: string): string {
  return kind === 'markdown' ? `![${escapeMarkdownAlt(alt)}](${src})` : `<img src="${escapeHtmlAttribute(src)}" alt="${escapeHtmlAttribute(alt)}">`;
}

const HTML_LANGUAGES = new Set(['html', 'xml', 'xhtml', 'php', 'vue', 'svelte', 'astro', 'handlebars', 'razor', 'javascriptreact', 'typescriptreact']);

/** Which syntax a new reference uses in a document of this VS Code language id. */
export function referenceKindFor(languageId: string): ReferenceKind {
  return HTML_LANGUAGES.has(languageId) ? 'html' : 'markdown';
}

/**
 * The local files a src may name, most likely first: relative to the document, then (for a
 * leading `/`) the filesystem root and each workspace folder. Remote URLs and data: give none.
 */
export function candidatePaths(src: string, documentPath: string | undefined, workspaceRoots: readonly string[] = []): string[] {
  let s = src.trim();
  if (/^(?:https?|data|mailto|ftp):/i.test(s) || s.startsWith('//')) return [];
  if (/^file:/i.test(s)) {
    try {
      const url = new URL(s);
      return [decodeURIComponent(url.pathname.replace(/^\/([a-zA-Z]:)/, '$1'))];
    } catch {
      return [];
    }
  }
  s = s.replace(/[?#].*$/, '');
  try {
    s = decodeURIComponent(s);
  } catch {
    // A stray % is a literal character in the file name.
  }
  if (s === '') return [];
  if (path.isAbsolute(s)) return [path.normalize(s), ...workspaceRoots.map((root) => path.join(root, s))];
  const base = documentPath ? path.dirname(documentPath) : workspaceRoots[0];
  return base ? [path.resolve(base, s)] : [];
}

const samePath = (a: string, b: string) =>
  process.platform === 'win32' || process.platform === 'darwin' ? path.normalize(a).toLowerCase() === path.normalize(b).toLowerCase() : path.normalize(a) === path.normalize(b);

/** Whether the reference's src names `imagePath`. */
export function referencePointsAt(ref: Pick<ImageReference, 'src'>, imagePath: string, documentPath: string | undefined, workspaceRoots: readonly string[] = []): boolean {
  return candidatePaths(ref.src, documentPath, workspaceRoots).some((p) => samePath(p, imagePath));
}

/**
 * Where the described image's alt text goes, given the cursor: the reference under the cursor
 * when it shows that image; otherwise a new reference at the cursor, or right after a
 * reference to another image (never inside it).
 */
export function altTextEdit(
  text: string,
  cursor: number,
  alt: string,
  image: { path: string; documentPath: string | undefined; workspaceRoots?: readonly string[]; languageId: string },
): { edit: TextEdit; replaced: boolean } {
  const ref = referenceAt(text, cursor);
  if (ref && referencePointsAt(ref, image.path, image.documentPath, image.workspaceRoots)) return { edit: replaceAltEdit(ref, alt), replaced: true };
  const at = ref ? ref.end : cursor;
  const reference = newImageReference(referenceKindFor(image.languageId), referenceSrc(image.path, image.documentPath), alt);
  return { edit: { start: at, end: at, newText: reference }, replaced: false };
}

/** Applies edits (non-overlapping) to a string; used by tests and for checking results. */
export function applyEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}
