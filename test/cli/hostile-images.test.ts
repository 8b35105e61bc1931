import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { buildCorpus, type CorpusCase } from '../helpers/image-corpus';
import { measuredRunner, type MeasuredRun } from '../helpers/measured-run';

// The CLI as users run it: the built bundle (npm run build).
const CLI = path.resolve(__dirname, '../../dist/cli.js');
/** What any image may cost, whatever it declares. */
const PEAK_LIMIT_MB = 1536;
const CASE_LIMIT_MS = 10_000;
/** A run past these is killed, so that a regression fails the test rather than the machine. */
const KILL = { capMb: 2048, timeoutMs: 60_000 };
const FAST = ['--max-patches', '64', '--max-new-tokens', '2', '--precision', 'fp32'];

/** Text a user should never see: stack frames, and decoder messages passed through raw. */
const STACK = /^\s+at \S|\b(TypeError|RangeError|ReferenceError|Error): /m;
const RAW_DECODER_TEXT = /Input (file|buffer)|corrupt header:|VipsJpeg|vipspng|libpng read error|gifload|heif:|glib:|bad seek|unsupported image format/i;

const temp = trackedTempDirs();

/** How the user sees a path in one line of stderr (the CLI folds line breaks). */
const shown = (p: string) => p.replace(/\s*\n\s*/g, ' ');

/** What is wrong with one generate run of one case, or null when it behaved. */
function problemWith(c: CorpusCase, imagePath: string, r: MeasuredRun): string | null {
  if (r.killed) return `killed: ${r.killed}`;
  if (r.peakMb > PEAK_LIMIT_MB) return `peak memory ${r.peakMb.toFixed(0)} MB`;
  if (r.ms > CASE_LIMIT_MS) return `took ${r.ms.toFixed(0)} ms`;
  if (r.code === 0) {
    if (c.expect === 'refusal') return `expected a refusal, got a result`;
    if (r.stderr !== '') return `a result with stderr: ${r.stderr}`;
    const out = JSON.parse(r.stdout) as { token_ids: number[] };
    return Array.isArray(out.token_ids) && out.token_ids.length >= 1 ? null : `no token ids in ${r.stdout}`;
  }
  if (r.code !== 1) return `exit ${r.code}: ${r.stderr}`;
  if (c.expect === 'result') return `expected a result, got: ${r.stderr.trim()}`;
  if (r.stdout !== '') return `a refusal with stdout: ${r.stdout}`;
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) return `${lines.length} lines on stderr: ${r.stderr}`;
  const line = lines[0]!;
  if (!line.startsWith(`pix2struct: error: ${shown(imagePath)}: `)) return `the line does not start with the file's path: ${line}`;
  if (STACK.test(line) || RAW_DECODER_TEXT.test(line)) return `raw library text or a stack: ${line}`;
  const clauses = line.split(/; | \(|\) /);
  if (new Set(clauses).size !== clauses.length) return `a repeated clause: ${line}`;
  if (c.says && !c.says.test(line)) return `does not say ${c.says}: ${line}`;
  return null;
}

function summarise(runs: { name: string; r: MeasuredRun }[]): string[] {
  const slowest = [...runs].sort((a, b) => b.r.ms - a.r.ms).slice(0, 5);
  const largest = [...runs].sort((a, b) => b.r.peakMb - a.r.peakMb).slice(0, 5);
  return [
    `slowest: ${slowest.map(({ name, r }) => `${JSON.stringify(name)} ${(r.ms / 1000).toFixed(2)} s`).join(', ')}`,
    `largest: ${largest.map(({ name, r }) => `${JSON.stringify(name)} ${r.peakMb.toFixed(0)} MB`).join(', ')}`,
  ];
}

describe('hostile and odd images: a result or one clear line, in bounded memory and time', () => {
  let dir: string;
  let cases: CorpusCase[];
  let server: http.Server;
  let requests: string[] = [];
  let run: ReturnType<typeof measuredRunner>;
  let cacheDir: string;
  const generated = new Map<string, MeasuredRun>();

  before(async () => {
    assert.ok(fs.existsSync(CLI), 'run npm run build first');
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = temp.tempDir('hostile');
    cases = await buildCorpus(dir, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    run = measuredRunner(temp.tempDir('hostile-runs'), KILL);
    cacheDir = temp.tempDir('hostile-graphs');
  });

  after(() => {
    server?.close();
    if (dir && fs.existsSync(path.join(dir, 'unreadable.png'))) fs.chmodSync(path.join(dir, 'unreadable.png'), 0o644);
    temp.removeAll();
  });

  test('the corpus has at least 60 cases in every category', (t) => {
    assert.ok(cases.length >= 60, `${cases.length} cases`);
    const counts = new Map<string, number>();
    for (const c of cases) counts.set(c.category, (counts.get(c.category) ?? 0) + 1);
    t.diagnostic(`${cases.length} cases: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });

  test('generate: each case alone', async (t) => {
    // The first run builds the fixture's graphs into the cache; the cases then measure images, not graph building.
    const warm = await run(CLI, ['generate', '--model', MODEL_DIR, '--image', path.join(dir, 'valid.png'), ...FAST, '--cache-dir', cacheDir, '--json']);
    assert.equal(warm.code, 0, warm.stderr);
    const problems: string[] = [];
    for (const c of cases) {
      const imagePath = path.join(dir, c.name);
      const r = await run(CLI, ['generate', '--model', MODEL_DIR, '--image', imagePath, ...FAST, '--cache-dir', cacheDir, '--json']);
      generated.set(c.name, r);
      const problem = problemWith(c, imagePath, r);
      if (problem) problems.push(`${JSON.stringify(c.name)}: ${problem}`);
    }
    const measured = [...generated].map(([name, r]) => ({ name, r }));
    for (const line of summarise(measured)) t.diagnostic(line);
    const refused = measured.filter(({ r }) => r.code === 1).length;
    t.diagnostic(`${measured.length - refused} described, ${refused} refused`);
    assert.deepEqual(problems, []);
  });

  test('SVG references fetched nothing from the network', () => {
    assert.ok(generated.size > 0, 'runs after the generate test');
    assert.deepEqual(requests, []);
  });

  test('usage errors exit 2 before any image is read', async () => {
    const r = await run(CLI, ['generate', '--model', MODEL_DIR, '--image', '', ...FAST, '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^pix2struct: error: --image is required \(see pix2struct --help\)\n$/);
    const flag = await run(CLI, ['generate', '--model', MODEL_DIR, '--image', path.join(dir, 'folder.png'), '--max-patches', 'many', '--json']);
    assert.equal(flag.code, 2, flag.stderr);
  });

  test('a bad image fails before the model loads', async () => {
    // No model folder at all: the image's error comes first, so the model was never opened.
    const r = await run(CLI, ['generate', '--model', path.join(dir, 'no-model-here'), '--image', path.join(dir, 'document.pdf'), ...FAST, '--json']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /document\.pdf: a PDF document, not an image/);
  });

  test('batch: every case together, one line each, the same messages, exit 1 and a summary', async (t) => {
    assert.equal(generated.size, cases.length, 'runs after the generate test');
    const input = path.join(temp.tempDir('hostile-batch'), 'all.jsonl');
    fs.writeFileSync(input, cases.map((c) => JSON.stringify({ image: path.join(dir, c.name) })).join('\n'));
    const r = await run(CLI, ['batch', '--model', MODEL_DIR, '--input', input, ...FAST, '--batch-size', '4', '--cache-dir', cacheDir]);
    t.diagnostic(`batch of ${cases.length}: ${(r.ms / 1000).toFixed(1)} s, peak ${r.peakMb.toFixed(0)} MB`);
    assert.equal(r.killed, undefined, r.killed);
    assert.ok(r.peakMb <= PEAK_LIMIT_MB, `batch peak ${r.peakMb.toFixed(0)} MB`);
    // Error lines come as soon as an image fails, results when its chunk is done: match them by image.
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; token_ids?: number[]; error?: string });
    assert.deepEqual(lines.map((l) => l.image).sort(), cases.map((c) => path.join(dir, c.name)).sort(), 'one line per item');
    const byImage = new Map(lines.map((l) => [l.image, l]));
    let described = 0;
    for (const c of cases) {
      const alone = generated.get(c.name)!;
      const line = byImage.get(path.join(dir, c.name))!;
      if (alone.code === 0) {
        described++;
        assert.ok(Array.isArray(line.token_ids), `${c.name}: ${JSON.stringify(line)}`);
      } else {
        assert.equal(`pix2struct: error: ${shown(line.error ?? '')}`, alone.stderr.trim(), c.name);
      }
    }
    assert.equal(r.code, 1, 'some items failed');
    assert.equal(r.stderr, `pix2struct: ${described} described, ${cases.length - described} failed (see the error lines)\n`);
  });
});
