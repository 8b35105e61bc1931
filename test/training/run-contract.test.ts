// The launcher (TypeScript) and the host (training/remote, Python) each define the run-id pattern
// and the run states once; here both answer for the same inputs. The id list is shared with
// test/remote/test_run_id_agreement.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_ID_PATTERN, createdAtFromId, isRunId, newRunId } from '../../training/launcher/run-id';
import { RUN_STATES, TERMINAL_STATES } from '../../training/launcher/run-states';

const ROOT = path.resolve(__dirname, '../..');
const IDS = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/remote/fixtures/run-ids.json'), 'utf8')) as { valid: string[]; invalid: string[] };

/** Asks the host's own module (standard library only, so the system python3 runs it). */
function python(expression: string, input: unknown): unknown {
  const program = `import json, sys\nfrom pix2struct_remote import run_files\ndata = json.load(sys.stdin)\nprint(json.dumps(${expression}))`;
  const out = execFileSync('python3', ['-c', program], { cwd: path.join(ROOT, 'training/remote'), input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(out);
}

test('the shared list of run ids: valid ones pass, invalid ones do not', () => {
  for (const id of IDS.valid) assert.ok(isRunId(id), JSON.stringify(id));
  for (const id of IDS.invalid) assert.equal(isRunId(id), false, JSON.stringify(id));
});

test('the host gives the same verdict as the launcher on every listed id and on edge cases around it', () => {
  const candidates = [
    ...IDS.valid, ...IDS.invalid,
    // every ASCII character alone, after a valid start, and before a newline
    ...Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).flatMap((ch) => [ch, `a${ch}`, `${ch}\n`]),
    ...[63, 64, 65].map((n) => 'x'.repeat(n)),
    newRunId(),
  ];
  const host = python('[bool(run_files.RUN_ID_PATTERN.match(s)) for s in data]', candidates) as boolean[];
  const disagreements = candidates.filter((id, i) => host[i] !== RUN_ID_PATTERN.test(id));
  assert.deepEqual(disagreements, []);
});

test('ids the launcher makes are run ids and carry their creation time', () => {
  const id = newRunId(new Date('2026-11-24T21:15:00.000Z'));
  assert.match(id, /^20261124-211500-[0-9a-f]{6}$/);
  assert.ok(isRunId(id));
  assert.equal(createdAtFromId(id), '2026-11-24T21:15:00Z');
  assert.equal(createdAtFromId('r-slice'), null);
});

test('the run states and the terminal ones are the same on both sides', () => {
  const host = python('[list(run_files.STATES), list(run_files.TERMINAL_STATES)]', null);
  assert.deepEqual(host, [[...RUN_STATES], [...TERMINAL_STATES]]);
});
