import type { DeplotTable } from './deplot';

/*
 * Chart tables mix labels and numbers written for people: "1,234.5", "12%", "$3.2", "−4"
 * (Unicode minus). A view that plots or sorts a column needs the numbers back. Only forms
 * that cannot be read two ways are accepted: a comma is a thousands separator only in
 * groups of three ("1,234"), so "1,5" (a European decimal, or a list) is not a number.
 */

export interface NumericCell {
  /** The number as written: "12%" gives 12, not 0.12. */
  value: number;
  percent: boolean;
}

// sign, currency (either order), digits with optional 3-digit comma groups, fraction,
// exponent, percent.
const NUMBER =
  /^([+\-\u2212])?\s*([$€£¥₹])?\s*([+\-\u2212])?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(e[+-]?\d+)?\s*(%)?$/i;

export function parseNumericCell(cell: string): NumericCell | null {
  const m = NUMBER.exec(cell.trim());
  if (!m) return null;
  const [, signBefore, , signAfter, digits, exponent, percent] = m;
  if (signBefore && signAfter) return null; // "-$-5"
  const sign = signBefore ?? signAfter;
  const negative = sign === '-' || sign === '\u2212';
  const value = Number(`${digits!.replace(/,/g, '')}${exponent ?? ''}`);
  if (!Number.isFinite(value)) return null;
  return { value: negative && value !== 0 ? -value : value, percent: percent !== undefined };
}

export function isNumericCell(cell: string): boolean {
  return parseNumericCell(cell) !== null;
}

/** Per column: true when every non-empty body cell is numeric and at least one is present. */
export function numericColumns(table: DeplotTable): boolean[] {
  return table.header.map((_, col) => {
    const cells = table.rows.map((r) => (r[col] ?? '').trim()).filter((c) => c !== '');
    return cells.length > 0 && cells.every(isNumericCell);
  });
}
