import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { DEPLOT_PROMPT } from '../../model-runtime/src/tasks/prompts';
import { imagePath, MODEL_DIR, tempDir } from '../helpers/fixture';

// The CLI as users run it: the built bundle (npm run build) through node.
const CLI = path.resolve(__dirname, '../../dist/cli.js');
const cacheDir = tempDir('vqa-graphs');
const image = imagePath('chart', 'plain');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The fixture model laid out as Google's conversions ship: config.json says "is_vqa": false,
 * preprocessor_config.json says true. `repo` puts it in a Hugging Face cache under that Hub id.
 */
function vqaCheckpoint(repo?: string): string {
  const root = tempDir('vqa-model');
  const dir = repo ? path.join(root, `models--${repo.replace('/', '--')}`, 'snapshots', 'c0ffee') : root;
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(MODEL_DIR)) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).is_vqa, false);
  const pre = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ ...pre, is_vqa: true }));
  return dir;
}

const run = (dir: string, ...extra: string[]) =>
  cli('generate', '--model', dir, '--image', image, '--max-patches', '64', '--max-new-tokens', '2', '--precision', 'fp32', '--cache-dir', cacheDir, '--json', ...extra);

describe('VQA checkpoints are recognised as transformers recognises them (preprocessor_config.json first)', () => {
  test('without --text: refused in one line that says what to pass; with it, it runs', () => {
    const dir = vqaCheckpoint();
    const refused = run(dir);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr.trim(), /^pix2struct: error: this checkpoint is a VQA checkpoint \(preprocessor_config\.json: "is_vqa": true\).*pass the question with --text/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    const answered = run(dir, '--text', 'What is the highest value?');
    assert.equal(answered.code, 0, answered.stderr);
    assert.equal(JSON.parse(answered.stdout).token_ids[0], 0);
  });

  test('a known Hub checkpoint in the cache is told what it expects (DePlot: its prompt)', () => {
    const refused = run(vqaCheckpoint('google/deplot'));
    assert.equal(refused.code, 2);
    assert.ok(refused.stderr.includes(`google/deplot is a VQA checkpoint`), refused.stderr);
    assert.ok(refused.stderr.includes(`--text "${DEPLOT_PROMPT}"`), refused.stderr);
  });

  test('preprocess renders the header too, and refuses the same way without it', () => {
    const dir = vqaCheckpoint();
    const out = path.join(tempDir('vqa-pre'), 'patches.bin');
    assert.equal(cli('preprocess', '--model', dir, '--image', image, '--max-patches', '64', '--out', out).code, 2);
    const plain = cli('preprocess', '--model', MODEL_DIR, '--image', image, '--max-patches', '64', '--out', `${out}.plain`);
    const withHeader = cli('preprocess', '--model', dir, '--image', image, '--max-patches', '64', '--text', 'Which bar is tallest?', '--out', out);
    assert.equal(withHeader.code, 0, withHeader.stderr);
    assert.equal(plain.code, 0, plain.stderr);
    // The header adds rows above the image: the patch grid differs from the plain image's.
    assert.notDeepEqual(JSON.parse(withHeader.stdout), JSON.parse(plain.stdout));
  });

  test('batch: an item without "text" gets its own error line; the others are described', () => {
    const dir = vqaCheckpoint();
    const work = tempDir('vqa-batch');
    fs.copyFileSync(image, path.join(work, 'chart.png'));
    const jsonl = path.join(work, 'items.jsonl');
    fs.writeFileSync(jsonl, `${JSON.stringify({ image: 'chart.png' })}\n${JSON.stringify({ image: 'chart.png', text: 'What is the highest value?' })}\n`);
    const r = cli('batch', '--model', dir, '--input', jsonl, '--max-patches', '64', '--max-new-tokens', '2', '--precision', 'fp32', '--cache-dir', cacheDir);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines.find((l) => l.error)!.error, /VQA checkpoint.*pass the question with the item's "text"/);
    assert.equal(lines.find((l) => !l.error)!.question, 'What is the highest value?');
  });
});
