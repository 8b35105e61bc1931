// VS Code's own log files: the extension's log output channel ("Pix2Struct") and the extension
// host's log, found under the server's user-data folder. Lines start with a local timestamp,
// e.g. "2026-11-24 21:30:01.123 [info] Pix2Struct activated".
import * as fs from 'node:fs';
import * as path from 'node:path';

function filesNamed(dir: string, test: (name: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Epoch ms of the first line in any matching log file that matches `line`, or null. */
export function firstLogTime(logsDir: string, file: (name: string) => boolean, line: RegExp): { at: number; text: string } | null {
  let best: { at: number; text: string } | null = null;
  for (const f of filesNamed(logsDir, file)) {
    for (const text of fs.readFileSync(f, 'utf8').split('\n')) {
      const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) /.exec(text);
      if (!m || !line.test(text)) continue;
      const at = new Date(`${m[1]}T${m[2]}`).getTime();
      if (!best || at < best.at) best = { at, text };
    }
  }
  return best;
}

/** Waits (polling) until firstLogTime finds the line. */
export async function waitForLogLine(
  logsDir: string,
  file: (name: string) => boolean,
  line: RegExp,
  timeoutMs: number,
): Promise<{ at: number; text: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = firstLogTime(logsDir, file, line);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no log line matching ${line} under ${logsDir} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
