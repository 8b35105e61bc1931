import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { IMAGES, MODEL_DIR, FIXTURE_ROOT, imagePath, maxAbsDiff, modelRef, preprocessCases, readReference, tempDir } from '../helpers/fixture';

// The CLI as users run it: the built bundle (npm run build) through node.
const CLI = path.resolve(__dirname, '../../dist/cli.js');
const cacheDir = tempDir('cli-graphs');

// The transformers comparisons run in fp32 (auto would pick int8 on VNNI/AMX CPUs); int8 has its own tests.
function cli(...args: string[]) {
  const precision = (args[0] === 'generate' || args[0] === 'batch') && !args.includes('--precision') ? ['--precision', 'fp32'] : [];
  const r = spawnSync(process.execPath, [CLI, ...args, ...precision, ...(args[0] === 'generate' ? ['--cache-dir', cacheDir] : [])], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(r: ReturnType<typeof cli>) {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Writes the image a model reference was computed from, at 256 patches, via preprocess. */
describe('pix2struct CLI', () => {
  test('the bundle exists (npm run build) and prints usage', () => {
    assert.ok(fs.existsSync(CLI), 'run npm run build first');
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /pix2struct generate --model DIR --image PATH/);
  });

  for (const image of IMAGES) {
    const ref = modelRef(image);
    const img = imagePath(image, 'plain');

    test(`${image}: generate --json greedy ids, top-5 steps and timings match transformers`, () => {
      const out = json(cli('generate', '--model', MODEL_DIR, '--image', img, '--max-patches', '256', '--max-new-tokens', String(ref.greedy_ids.length - 1), '--json'));
      assert.deepEqual(out.token_ids, ref.greedy_ids);
      assert.equal(out.text, null, 'the fixture has no tokenizer');
      assert.equal(out.steps.length, ref.greedy_step_top5.length);
      out.steps.forEach((s: { ids: number[]; logits: number[] }, i: number) => {
        assert.deepEqual(s.ids, ref.greedy_step_top5[i].ids);
        assert.ok(maxAbsDiff(s.logits, ref.greedy_step_top5[i].logits) <= 1e-4);
      });
      for (const k of ['preprocess', 'encoder', 'decoder']) assert.ok(out.timings_ms[k] > 0, k);
    });

    test(`${image}: generate --num-beams 3 and --eos-token-id match transformers`, () => {
      const n = String(ref.beam3_ids.length - 1);
      const beam = json(cli('generate', '--model', MODEL_DIR, '--image', img, '--max-patches', '256', '--max-new-tokens', n, '--num-beams', '3', '--json'));
      assert.deepEqual(beam.token_ids, ref.beam3_ids);
      assert.ok(Math.abs(beam.sequence_score - ref.beam3_sequence_score) <= 1e-4);
      assert.equal(beam.steps, null);
      const eo = ref.eos_override;
      const early = json(cli('generate', '--model', MODEL_DIR, '--image', img, '--max-patches', '256', '--max-new-tokens', n, '--eos-token-id', String(eo.eos_token_id), '--json'));
      assert.deepEqual(early.token_ids, eo.greedy_ids);
      const earlyBeam = json(cli('generate', '--model', MODEL_DIR, '--image', img, '--max-patches', '256', '--max-new-tokens', n, '--eos-token-id', String(eo.eos_token_id), '--num-beams', '3', '--json'));
      assert.deepEqual(earlyBeam.token_ids, eo.beam3_ids);
      assert.ok(Math.abs(earlyBeam.sequence_score - eo.beam3_sequence_score) <= 1e-4);
    });

    for (const kind of ['plain', 'vqa'] as const) {
      test(`${image}: preprocess ${kind} writes the reference patches and mask`, () => {
        const dir = tempDir('pre');
        for (const [maxPatches, rec] of preprocessCases(image, kind)) {
          const out = path.join(dir, `${kind}-${maxPatches}.bin`);
          const info = json(cli('preprocess', '--model', MODEL_DIR, '--image', imagePath(image, kind), '--max-patches', String(maxPatches), '--out', out));
          assert.deepEqual(info, { rows: rec.geometry.rows, cols: rec.geometry.cols, num_patches: rec.geometry.num_patches });
          const read = (f: string) => {
            const b = fs.readFileSync(f);
            return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
          };
          assert.ok(maxAbsDiff(read(out), readReference(rec.flattened_patches)) <= 1e-5, `${maxPatches} patches`);
          assert.deepEqual(Array.from(read(`${out}.mask`)), Array.from(readReference(rec.attention_mask)));
        }
      });
    }
  }

  test('batch: a folder or JSONL of images in, one JSON line per image out, bad images reported and skipped', () => {
    const dir = tempDir('batch');
    for (const image of IMAGES) fs.copyFileSync(imagePath(image, 'plain'), path.join(dir, `${image}.png`));
    fs.copyFileSync(path.join(FIXTURE_ROOT, 'README.md'), path.join(dir, 'zz-not-an-image.png'));
    const n = String(modelRef('chart').greedy_ids.length - 1);
    const r = cli('batch', '--model', MODEL_DIR, '--input', dir, '--max-patches', '256', '--max-new-tokens', n, '--batch-size', '2', '--cache-dir', cacheDir);
    assert.equal(r.code, 1, 'one item failed, after the others were described');
    assert.equal(r.stderr, `pix2struct: ${IMAGES.length} described, 1 failed (see the error lines)\n`);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const byName = new Map(lines.map((l) => [path.basename(l.image), l]));
    for (const image of IMAGES) assert.deepEqual(byName.get(`${image}.png`).token_ids, modelRef(image).greedy_ids, image);
    assert.match(byName.get('zz-not-an-image.png').error, /zz-not-an-image\.png: a text file, not an image/);

    const jsonl = path.join(dir, 'items.jsonl');
    fs.writeFileSync(jsonl, `${JSON.stringify({ image: 'ui.png' })}\n\n${JSON.stringify({ image: 'photo.png' })}\n`);
    const out = path.join(dir, 'results.jsonl');
    const j = cli('batch', '--model', MODEL_DIR, '--input', jsonl, '--out', out, '--max-patches', '256', '--max-new-tokens', n, '--cache-dir', cacheDir);
    assert.equal(j.code, 0, j.stderr);
    assert.match(j.stderr, /2 described, 0 failed/);
    const results = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(results.map((x) => x.token_ids), [modelRef('ui').greedy_ids, modelRef('photo').greedy_ids]);
  });

  test('--precision int8: generate and batch run int8 and say so; preprocess accepts and ignores it', () => {
    const img = imagePath('chart', 'plain');
    const n = String(modelRef('chart').greedy_ids.length - 1);
    const out = json(cli('generate', '--model', MODEL_DIR, '--image', img, '--max-patches', '256', '--max-new-tokens', n, '--precision', 'int8', '--json'));
    assert.equal(out.precision.used, 'int8');
    assert.match(out.precision.reason, /^requested/);
    assert.equal(out.token_ids[0], 0);
    // The whole budget, unless eos (1) came first.
    assert.ok(out.token_ids.length === Number(n) + 1 || (out.token_ids.length <= Number(n) + 1 && out.token_ids.at(-1) === 1), `${out.token_ids}`);
    const fp32 = json(cli('generate', '--model', MODEL_DIR, '--image', img, '--max-patches', '256', '--max-new-tokens', n, '--json'));
    assert.deepEqual(fp32.precision, { used: 'fp32', reason: 'requested' });
    assert.deepEqual(fp32.token_ids, modelRef('chart').greedy_ids);

    const dir = tempDir('batch-int8');
    fs.copyFileSync(img, path.join(dir, 'chart.png'));
    const batch = cli('batch', '--model', MODEL_DIR, '--input', dir, '--max-patches', '256', '--max-new-tokens', n, '--precision', 'int8', '--cache-dir', cacheDir);
    assert.equal(batch.code, 0, batch.stderr);
    // One image alone: the batch path runs the same int8 graphs as generate.
    assert.deepEqual(JSON.parse(batch.stdout.trim()).token_ids, out.token_ids);

    const pre = path.join(dir, 'patches.bin');
    assert.equal(cli('preprocess', '--model', MODEL_DIR, '--image', img, '--max-patches', '64', '--precision', 'int8', '--out', pre).code, 0);
    assert.equal(fs.statSync(pre).size, 64 * 770 * 4);
  });

  describe('bad input exits non-zero with one clear line on stderr', () => {
    const oneLine = (r: ReturnType<typeof cli>, pattern: RegExp) => {
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, pattern);
    };
    const img = imagePath('chart', 'plain');

    test('missing image file', () => oneLine(cli('generate', '--model', MODEL_DIR, '--image', '/nonexistent/shot.png', '--json'), /\/nonexistent\/shot\.png: file not found/));
    test('a file that is not an image', () => oneLine(cli('generate', '--model', MODEL_DIR, '--image', path.join(FIXTURE_ROOT, 'README.md'), '--json'), /README\.md: a text file, not an image/));
    test('a broken checkpoint', () => {
      const dir = tempDir('broken-cli');
      for (const f of fs.readdirSync(MODEL_DIR)) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
      const weights = path.join(dir, 'model.safetensors');
      fs.truncateSync(weights, fs.statSync(weights).size - 1000);
      oneLine(cli('generate', '--model', dir, '--image', img, '--json'), /model\.safetensors \(tensor "[^"]+"\): data_offsets .* past the end/);
    });
    test('a missing model folder', () => oneLine(cli('preprocess', '--model', '/nonexistent/model', '--image', img, '--out', '/tmp/x'), /\/nonexistent\/model: model folder not found/));
    test('an unknown flag', () => oneLine(cli('generate', '--model', MODEL_DIR, '--image', img, '--frobnicate', '--json'), /Unknown option '--frobnicate'/));
    test('an unknown command', () => oneLine(cli('describe'), /unknown command "describe"/));
    test('an unknown precision', () => oneLine(cli('generate', '--model', MODEL_DIR, '--image', img, '--precision', 'fp8', '--json'), /--precision must be one of auto, fp32, int8, got "fp8"/));
    test('a malformed JSONL batch line', () => {
      const file = path.join(tempDir('badjsonl'), 'in.jsonl');
      fs.writeFileSync(file, '{"image": "a.png"}\n{"img": 3}\n');
      oneLine(cli('batch', '--model', MODEL_DIR, '--input', file), /in\.jsonl:2: expected \{"image": "path", "text"\?: "question"\}/);
    });
    test('a non-numeric --max-patches', () => oneLine(cli('preprocess', '--model', MODEL_DIR, '--image', img, '--max-patches', 'lots', '--out', '/tmp/x'), /--max-patches must be a positive integer, got "lots"/));
  });
});
