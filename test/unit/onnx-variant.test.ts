import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { InferenceClient } from '../../src/inference-client';
import { imagePath, modelRef, trackedTempDirs } from '../helpers/fixture';
import { startLocalHub, type LocalHub } from '../helpers/local-hub-server';
import { makeXenovaExport } from '../helpers/xenova-export';
import { runCliAsync } from '../helpers/cli-run';

/**
 * Choosing an ONNX export's variant as a user does: `--onnx-variant` / `--onnx-decoder` on the
 * CLI, `pix2struct download` of a repo holding only the export, and the extension's worker with
 * the pix2struct.onnxVariant setting. The export is a real optimum export of the fixture model.
 */
const WORKER = path.resolve(__dirname, '../../dist/inference-worker.js');
const REPO_ID = 'test-org/pix2struct-tiny-onnx';
const { tempDir, removeAll } = trackedTempDirs();
const work = tempDir('onnx-variant');
let repo = '';
let skipReason: string | null = null;

const cli = runCliAsync;

const ref = modelRef('chart');
/** generate on the chart image with the references' patch count, as many steps as the reference has. */
const generateArgs = (model: string, ...extra: string[]) => [
  'generate', '--model', model, '--image', imagePath('chart', 'plain'), '--max-patches', '256',
  '--max-new-tokens', String(ref.greedy_ids.length - 1), '--threads', '2', '--json', ...extra,
];

async function generate(model: string, ...extra: string[]) {
  const r = await cli(generateArgs(model, ...extra));
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { token_ids: number[]; text: string | null; precision: { used: string; reason: string } };
}

function skipped(t: TestContext): boolean {
  if (skipReason) t.skip(skipReason);
  return skipReason !== null;
}

before(() => {
  const made = makeXenovaExport(work);
  if (made.skip !== undefined) skipReason = made.skip;
  else repo = made.repo;
});
after(() => removeAll());

describe('pix2struct generate --onnx-variant / --onnx-decoder', () => {
  test('default: the float32 graphs (weights in external data) give the reference ids', async (t) => {
    if (skipped(t)) return;
    const out = await generate(repo);
    assert.deepEqual(out.token_ids, ref.greedy_ids);
    assert.deepEqual(out.precision, { used: 'fp32', reason: 'ONNX export: runs as exported (encoder_model.onnx)' });
    assert.equal(typeof out.text, 'string', "decoded with the export's tokenizer");
  });

  test('--onnx-decoder split runs the decoder pair, with the same ids', async (t) => {
    if (skipped(t)) return;
    assert.deepEqual((await generate(repo, '--onnx-decoder', 'split')).token_ids, ref.greedy_ids);
  });

  for (const [variant, precision] of [['quantized', 'int8'], ['fp16', 'fp16']] as const) {
    test(`--onnx-variant ${variant} runs the ${variant} graphs`, async (t) => {
      if (skipped(t)) return;
      const out = await generate(repo, '--onnx-variant', variant);
      assert.equal(out.precision.used, precision);
      assert.equal(out.precision.reason, `ONNX export: runs as exported (encoder_model_${variant}.onnx)`);
      assert.equal(out.token_ids[0], 0);
      assert.equal(out.token_ids.length, ref.greedy_ids.length);
    });
  }

  test('a variant the folder lacks fails naming the variants it has; bad values are usage errors', async (t) => {
    if (skipped(t)) return;
    const quantizedOnly = tempDir('onnx-quantized-only');
    for (const name of fs.readdirSync(repo)) if (name !== 'onnx') fs.copyFileSync(path.join(repo, name), path.join(quantizedOnly, name));
    fs.mkdirSync(path.join(quantizedOnly, 'onnx'));
    for (const name of ['encoder_model_quantized.onnx', 'decoder_model_merged_quantized.onnx']) fs.linkSync(path.join(repo, 'onnx', name), path.join(quantizedOnly, 'onnx', name));
    for (const extra of [[], ['--onnx-variant', 'fp16']]) {
      const r = await cli(generateArgs(quantizedOnly, ...extra));
      assert.equal(r.code, 1, r.stderr);
      const wanted = extra.length ? 'fp16' : 'default';
      assert.match(r.stderr, new RegExp(`missing encoder_model${wanted === 'fp16' ? '_fp16' : ''}\\.onnx`));
      assert.match(r.stderr, new RegExp(`No ${wanted} variant here; variants found: quantized\\.`));
    }
    const bad = await cli(generateArgs(repo, '--onnx-variant', 'int4'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--onnx-variant must be one of default, quantized, fp16, got "int4"/);
    const badDecoder = await cli(generateArgs(repo, '--onnx-decoder', 'both'));
    assert.equal(badDecoder.code, 2);
    assert.match(badDecoder.stderr, /--onnx-decoder must be one of auto, merged, split/);
  });

  test('batch says that it needs weights', async (t) => {
    if (skipped(t)) return;
    const r = await cli(['batch', '--model', repo, '--input', path.dirname(imagePath('chart', 'plain'))]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /holds an ONNX export, and batch needs a checkpoint with weights/);
    assert.match(r.stderr, /pix2struct generate/);
  });
});

describe('pix2struct download of a repo holding only the export', () => {
  let hub: LocalHub;
  const hubCache = tempDir('onnx-variant-hub-cache');
  before(async () => {
    if (!skipReason) hub = await startLocalHub({ [REPO_ID]: { dir: repo } });
  });
  after(() => hub?.close());

  /** The repo files a download fetched. */
  const fetched = (seen: number) => {
    const prefix = `/${REPO_ID}/resolve/${hub.commitOf(REPO_ID)}/`;
    return [...new Set(hub.requests.slice(seen).filter((r) => r.path.startsWith(prefix)).map((r) => r.path.slice(prefix.length)))].sort();
  };
  const configs = () => fs.readdirSync(repo).filter((f) => f !== 'onnx');

  test('--onnx-variant quantized fetches the configs and the two quantized graphs, which then run', async (t) => {
    if (skipped(t)) return;
    const seen = hub.requests.length;
    const r = await cli(['download', REPO_ID, '--hub-cache', hubCache, '--onnx-variant', 'quantized'], { HF_ENDPOINT: hub.url });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fetched(seen), [...configs(), 'onnx/encoder_model_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx'].sort());
    const snapshot = JSON.parse(r.stdout).path as string;
    const out = await generate(snapshot, '--onnx-variant', 'quantized');
    assert.equal(out.precision.used, 'int8');
  });

  test('the default variant joins the snapshot with its external data, and runs from the cache links', async (t) => {
    if (skipped(t)) return;
    const seen = hub.requests.length;
    const r = await cli(['download', REPO_ID, '--hub-cache', hubCache], { HF_ENDPOINT: hub.url });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fetched(seen), ['onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx.data', 'onnx/encoder_model.onnx', 'onnx/encoder_model.onnx_data']);
    const snapshot = JSON.parse(r.stdout).path as string;
    assert.deepEqual((await generate(snapshot)).token_ids, ref.greedy_ids);
    const offline = await cli(['download', REPO_ID, '--hub-cache', hubCache, '--onnx-variant', 'fp16'], { HF_HUB_OFFLINE: '1' });
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /lacks the fp16 ONNX variant.*complete variants: default, quantized/);
  });
});

describe('the inference worker runs the variant the setting names', () => {
  test('quantized, then fp16, from the same folder', async (t) => {
    if (skipped(t)) return;
    const client = new InferenceClient(WORKER);
    try {
      const base = { task: 'describe' as const, modelPath: repo, imagePath: imagePath('chart', 'plain'), maxPatches: 256, maxNewTokens: 4, threads: 2 };
      const quantized = await client.describe({ ...base, onnxVariant: 'quantized' }).done;
      assert.equal(quantized.precision.used, 'int8');
      assert.match(quantized.precision.reason, /encoder_model_quantized\.onnx/);
      const fp16 = await client.describe({ ...base, onnxVariant: 'fp16' }).done;
      assert.equal(fp16.precision.used, 'fp16');
      const plain = await client.describe(base).done;
      assert.deepEqual(plain.tokenIds, ref.greedy_ids.slice(0, 5));
    } finally {
      await client.dispose();
    }
  });
});
