import * as fs from 'node:fs';
import { ConfigError } from '../errors';
import { entryExists, openRegularFile } from './open-file';

// Model configs are a few kilobytes and shard indexes a few hundred; a JSON file this large is
// not one of them, and reading it whole would only waste memory before failing.
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Reads and parses one JSON file of a model folder. Absent: `undefined`, or a ConfigError when
 * `required`. A path that is not a regular file, too large, or not valid JSON is refused with a
 * ConfigError naming the file (and the line and column of a syntax error).
 */
export function readJsonFile(file: string, required: boolean, hint = ''): unknown {
  if (!entryExists(file)) {
    if (required) throw new ConfigError(file, `file not found${hint}`);
    return undefined;
  }
  const { fd, size } = openRegularFile(file, (detail) => new ConfigError(file, detail));
  let text: string;
  try {
    if (size > MAX_JSON_BYTES) throw new ConfigError(file, `is ${size} bytes, too large for a JSON configuration file`);
    const bytes = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, bytes, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    text = bytes.toString('utf8', 0, done);
  } finally {
    fs.closeSync(fd);
  }
  return parseJsonText(text, file);
}

/** JSON.parse with errors that name the file and say where, in lines and columns rather than offsets. */
export function parseJsonText(text: string, file: string): unknown {
  if (text.trim() === '') throw new ConfigError(file, 'is empty, expected JSON');
  if (text.charCodeAt(0) === 0xfeff) throw new ConfigError(file, 'starts with a byte-order mark; save it as UTF-8 without one');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `not valid JSON${describeSyntaxError(text, (err as Error).message)}`);
  }
}

/** V8's wording varies: "<reason> in JSON at position N", "Unexpected token 'x', "<snippet>" is not valid JSON", … */
function describeSyntaxError(text: string, message: string): string {
  if (/Unexpected end of JSON input/.test(message)) return ': it ends early (truncated?)';
  const positioned = /^(.*?)( in| after) JSON at position (\d+)/.exec(message);
  // The snippet V8 quotes may be long or span lines: keep only the reason.
  const token = /^(Unexpected token .+?), (?:\.\.\.)?".*" is not valid JSON$/s.exec(message);
  const stated = positioned && (positioned[2] === ' after' ? `${positioned[1]} after the JSON value` : positioned[1]);
  const reason = lowerFirst((stated ?? token?.[1] ?? message.split('\n')[0]!).slice(0, 200));
  const position = positioned ? Number(positioned[3]) : firstBadOffset(text);
  if (position === null) return `: ${reason}`;
  const { line, column } = lineAndColumn(text, position);
  return ` at line ${line}, column ${column}: ${reason}`;
}

// Locating an error V8 gives no position for costs a few parses of prefixes; skipped for huge files.
const MAX_SEARCH_CHARS = 16 * 1024 * 1024;

/**
 * Where the first invalid character is, for messages without a position: the shortest prefix
 * whose parse fails before its end. Every shorter prefix is valid JSON so far (it parses, or
 * fails only for ending early), so a binary search over prefix lengths finds it.
 */
function firstBadOffset(text: string): number | null {
  if (text.length > MAX_SEARCH_CHARS) return null;
  const failsInside = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (err) {
      const message = (err as Error).message;
      if (/Unexpected end of JSON input/.test(message)) return false;
      const at = /JSON at position (\d+)/.exec(message);
      return !at || Number(at[1]) < length;
    }
  };
  let low = 0; // failsInside(low) is false
  let high = text.length; // failsInside(high) is true
  if (!failsInside(high)) return null;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (failsInside(mid)) high = mid;
    else low = mid;
  }
  return high - 1;
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: position - lastBreak };
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
