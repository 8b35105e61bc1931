/** Header text is wrapped at 80 columns, as transformers' render_text does. */
const WRAP_WIDTH = 80;

// ---------------------------------------------------------------------------------------
// Wrapping: Python's textwrap.TextWrapper(width=80) with its defaults (tabs expanded to 8,
// every ASCII whitespace turned into a space, whitespace dropped at line ends, long words
// broken, breaks allowed after hyphens inside words). Lengths count code points, as Python.
// ---------------------------------------------------------------------------------------

const WRAP_WHITESPACE = new Set(['\t', '\n', '\v', '\f', '\r', ' ']);
const WORD_PUNCT = new Set(['!', '"', "'", '&', '.', ',', '?']);
const isWs = (c: string | undefined): boolean => c !== undefined && WRAP_WHITESPACE.has(c);
// Python's \w on str: letters, numbers (any Unicode category N) and underscore.
const isWord = (c: string | undefined): boolean => c !== undefined && /^[\p{L}\p{N}_]$/u.test(c);
const isLetter = (c: string | undefined): boolean => isWord(c) && !/^\p{Nd}$/u.test(c!);
const isWordPunct = (c: string | undefined): boolean => isWord(c) || (c !== undefined && WORD_PUNCT.has(c));
// str.strip() == '' in Python: empty, or only Unicode whitespace.
const isBlank = (chunk: string[]): boolean => chunk.every((c) => /^[\s\x1c-\x1f\x85]$/u.test(c));

/** The lines textwrap.TextWrapper(width=80).wrap(text) returns. */
export function wrapHeaderText(text: string, width = WRAP_WIDTH): string[] {
  const chars = Array.from(expandTabs(text)).map((c) => (isWs(c) ? ' ' : c));
  return wrapChunks(splitChunks(chars), width).map((line) => line.join(''));
}

function expandTabs(text: string, tabSize = 8): string {
  let out = '';
  let column = 0;
  for (const c of text) {
    if (c === '\t') {
      const n = tabSize - (column % tabSize);
      out += ' '.repeat(n);
      column += n;
    } else {
      out += c;
      column = c === '\n' || c === '\r' ? 0 : column + 1;
    }
  }
  return out;
}

/** Whitespace runs, words, "--" dashes between words, and word pieces ending in a hyphen. */
function splitChunks(cs: string[]): string[][] {
  const chunks: string[][] = [];
  let i = 0;
  while (i < cs.length) {
    const end = isWs(cs[i]) ? whitespaceEnd(cs, i) : (emDashEnd(cs, i) ?? wordEnd(cs, i));
    chunks.push(cs.slice(i, end));
    i = end;
  }
  return chunks;
}

function whitespaceEnd(cs: string[], i: number): number {
  while (i < cs.length && isWs(cs[i])) i++;
  return i;
}

/** A run of two or more dashes after a word and before another word stands alone. */
function emDashEnd(cs: string[], i: number): number | undefined {
  if (!isWordPunct(cs[i - 1])) return undefined;
  let j = i;
  while (cs[j] === '-') j++;
  return j - i >= 2 && isWord(cs[j]) ? j : undefined;
}

function wordEnd(cs: string[], i: number): number {
  for (let j = i + 1; ; j++) {
    if (cs[j] === '-' && isBreakingHyphen(cs, j)) return j + 1;
    if (j >= cs.length || isWs(cs[j])) return j;
    if (isWordPunct(cs[j - 1]) && emDashEnd(cs, j) !== undefined) return j;
  }
}

/** "well-known" breaks after the hyphen, but only between letters, and not in "a-b" or "x-1". */
function isBreakingHyphen(cs: string[], j: number): boolean {
  const before = (isLetter(cs[j - 2]) && isLetter(cs[j - 1])) || (isLetter(cs[j - 3]) && cs[j - 2] === '-' && isLetter(cs[j - 1]));
  const after = isLetter(cs[j + 1]) && (isLetter(cs[j + 2]) || (cs[j + 2] === '-' && isLetter(cs[j + 3])));
  return before && after;
}

function wrapChunks(chunks: string[][], width: number): string[][] {
  const pending = chunks.slice().reverse();
  const lines: string[][] = [];
  while (pending.length > 0) {
    const line: string[][] = [];
    let length = 0;
    if (lines.length > 0 && isBlank(pending[pending.length - 1]!)) pending.pop();
    while (pending.length > 0 && length + pending[pending.length - 1]!.length <= width) {
      const chunk = pending.pop()!;
      line.push(chunk);
      length += chunk.length;
    }
    if (pending.length > 0 && pending[pending.length - 1]!.length > width) breakLongWord(pending, line, width - length);
    if (line.length > 0 && isBlank(line[line.length - 1]!)) line.pop();
    if (line.length > 0) lines.push(line.flat());
  }
  return lines;
}

/** Fills the rest of the line with the head of a word too long for any line, at a hyphen if one fits. */
function breakLongWord(pending: string[][], line: string[][], spaceLeft: number): void {
  const chunk = pending[pending.length - 1]!;
  let end = spaceLeft;
  const hyphen = chunk.slice(0, spaceLeft).lastIndexOf('-');
  if (hyphen > 0 && chunk.slice(0, hyphen).some((c) => c !== '-')) end = hyphen + 1;
  line.push(chunk.slice(0, end));
  pending[pending.length - 1] = chunk.slice(end);
}
