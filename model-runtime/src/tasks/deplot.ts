/*
 * DePlot and MatCha chart-to-table checkpoints emit a "linearised table": rows separated by
 * the byte-fallback token <0x0A> (a newline once decoded), cells by " | ", and usually a first
 * row "TITLE | <chart title>" (the title may be empty). DePlot's own evaluation
 * (google-research deplot/metrics.py) splits it the same way: lines, an optional "title |"
 * line, then cells split on " | " and stripped, first row as the header. Generated text is
 * messier than the targets, so this parser also accepts stray spaces around "|", a leading or
 * trailing "|", blank lines, markdown separator rows and T5's <pad>/</s> if left in.
 */

export interface DeplotTable {
  /** The TITLE row's text ("" when the row is there but empty); null when there is no TITLE row. */
  title: string | null;
  header: string[];
  /** Every row has header.length cells. */
  rows: string[][];
}

export interface ParsedDeplotTable extends DeplotTable {
  /** Some rows had a different number of cells and were padded with "" to the widest. */
  ragged: boolean;
}

export function parseDeplotTable(text: string): ParsedDeplotTable {
  const lines = text
    .replace(/<pad>|<\/s>/g, ' ')
    .replace(/<0x0A>/g, '\n')
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !isMarkdownSeparator(l));

  let title: string | null = null;
  // DePlot writes "TITLE"; deplot/metrics.py lower-cases everything, hence "title". A
  // capitalised "Title | Author" is far more likely a column called Title, so it stays a row.
  const titleRow = lines.length > 0 ? /^(?:TITLE|title)\s*(?:\|(.*))?$/s.exec(lines[0]!) : null;
  if (titleRow) {
    title = (titleRow[1] ?? '').replace(/\|\s*$/, '').trim(); // a trailing separator is not title text
    lines.shift();
  }

  const cells = lines.map(splitCells);
  const width = Math.max(0, ...cells.map((row) => row.length));
  const ragged = cells.some((row) => row.length !== width);
  const padded = cells.map((row) => [...row, ...Array<string>(width - row.length).fill('')]);
  return { title, header: padded[0] ?? [], rows: padded.slice(1), ragged };
}

/** "| a | b |" and "a | b |" both give ["a", "b"]: outer pipes are decoration, not empty cells. */
function splitCells(line: string): string[] {
  let body = line;
  if (body.startsWith('|')) body = body.slice(1);
  if (body.endsWith('|')) body = body.slice(0, -1);
  return body.split('|').map((c) => c.trim());
}

/** "---|---" or "| :--- | ---: |", which a model imitating markdown may produce. */
function isMarkdownSeparator(line: string): boolean {
  return /^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$/.test(line);
}

/**
 * RFC 4180 CSV of the header and rows (the title has no place in CSV; it stays on the table).
 * Fields holding a comma, a quote, a line break or edge spaces are quoted, quotes doubled;
 * every record ends with CRLF. An empty table gives "".
 */
export function toCsv(table: DeplotTable): string {
  const records = table.header.length > 0 ? [table.header, ...table.rows] : table.rows;
  return records.map((r) => r.map(csvField).join(',') + '\r\n').join('');
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * GitHub-flavoured markdown table of the header and rows. Inside cells "|" and "\" are
 * backslash-escaped so they stay text, "<" becomes &lt; so model output cannot inject HTML
 * into a rendered view, and line breaks become spaces (a table row is one line). Other
 * markdown (emphasis, links) is left alone: cells are data labels and numbers.
 * The title is not included; an empty table gives "".
 */
export function toMarkdown(table: DeplotTable): string {
  const width = Math.max(table.header.length, ...table.rows.map((r) => r.length));
  if (width === 0) return '';
  const line = (cells: readonly string[]) =>
    `| ${Array.from({ length: width }, (_, i) => markdownCell(cells[i] ?? '')).join(' | ')} |`;
  const separator = `| ${Array<string>(width).fill('---').join(' | ')} |`;
  return [line(table.header), separator, ...table.rows.map(line)].join('\n') + '\n';
}

function markdownCell(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\s*(?:\r\n|\r|\n)\s*/g, ' ');
}
