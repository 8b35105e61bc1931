import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { onnx } from 'onnx-proto';
import { CheckpointError, HubError, type HubErrorReason } from '../../model-runtime/src/errors';
import { downloadModel, findCachedModel, listCachedModels, listOnnxVariants } from '../../model-runtime/src/hub/index';
import { externalDataLocations } from '../../model-runtime/src/onnx-export/external-data';
import { floatTensor, ModelSession } from '../../model-runtime/src/runtime/ort-session';
import { MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { startLocalHub, type LocalHub } from '../helpers/local-hub-server';
import { pyrefPython } from '../helpers/python';

/**
 * A transformers.js-style repository (configs at the root, every variant's graphs in onnx/) served
 * by the local Hub: a download must fetch the chosen variant's graphs and the external data they
 * name, and nothing else. The graphs are small valid ONNX models made here (y = x + w, w in
 * external data where a real export of this size keeps it), so no Python is needed.
 */
const { tempDir, removeAll } = trackedTempDirs();

const REPO = 'test-org/pix2struct-tiny-onnx';
const QUANTIZED_ONLY = 'test-org/quantized-only-onnx';
const WITH_WEIGHTS = 'test-org/weights-and-onnx';
const ESCAPING = 'test-org/escaping-onnx';
const HF_VARS = ['HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE', 'XDG_CACHE_HOME'];

/** Floats in the encoder's external data: 6 MB, so that a download can be cut and resumed inside it. */
const ENCODER_FLOATS = 1_500_000;
const SMALL_FLOATS = 1000;
const ROOT_FILES = ['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

const F32 = onnx.TensorProto.DataType.FLOAT;

/** w: inline bytes, or where it lies in an external-data file. */
type Weights = { inline: Float32Array } | { location: string; offset: number; floats: number };

function initializer(name: string, w: Weights): onnx.ITensorProto {
  if ('inline' in w) return { name, dataType: F32, dims: [w.inline.length], rawData: new Uint8Array(w.inline.buffer.slice(0)) };
  return {
    name,
    dataType: F32,
    dims: [w.floats],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: w.location },
      { key: 'offset', value: String(w.offset) },
      { key: 'length', value: String(w.floats * 4) },
    ],
  };
}

const floatInput = (name: string, n: number): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: F32, shape: { dim: [{ dimValue: n }] } } } });

/** y = x + w. */
function addGraph(name: string, w: Weights, n: number, outer = false): onnx.IGraphProto {
  return {
    name,
    node: [{ opType: 'Add', input: ['x', `${name}_w`], output: [outer ? `${name}_y` : 'y'] }],
    initializer: [initializer(`${name}_w`, w)],
    input: outer ? [] : [floatInput('x', n)],
    output: [floatInput(outer ? `${name}_y` : 'y', n)],
  };
}

function encodeModel(graph: onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'test', graph })).finish();
}

/** A merged decoder's shape: an If whose two branches keep their weights in external data, as merge_decoders leaves them. */
function mergedGraph(location: string, n: number): Uint8Array {
  return encodeModel({
    name: 'merged',
    node: [
      {
        opType: 'If',
        input: ['use_cache_branch'],
        output: ['y'],
        attribute: [
          { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: addGraph('with_past', { location, offset: 0, floats: n }, n, true) },
          { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: addGraph('first', { location, offset: n * 4, floats: n }, n, true) },
        ],
      },
    ],
    input: [{ name: 'use_cache_branch', type: { tensorType: { elemType: onnx.TensorProto.DataType.BOOL, shape: { dim: [{ dimValue: 1 }] } } } }, floatInput('x', n)],
    output: [floatInput('y', n)],
  });
}

const randomFloats = (n: number) => {
  const bytes = crypto.randomBytes(n * 4);
  const floats = new Float32Array(n);
  for (let i = 0; i < n; i++) floats[i] = (bytes.readUInt32LE(i * 4) / 2 ** 32) * 2 - 1;
  return floats;
};
const inline = (n = SMALL_FLOATS): Weights => ({ inline: randomFloats(n) });

function write(dir: string, name: string, content: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.writeFileSync(path.join(dir, name), content);
}

function writeRootFiles(dir: string): void {
  for (const name of ROOT_FILES) {
    const fixture = path.join(MODEL_DIR, name);
    write(dir, name, fs.existsSync(fixture) ? fs.readFileSync(fixture) : JSON.stringify({ file: name }) /* distinct contents: identical ones share one blob */);
  }
}

/** Every variant of a transformers.js repo; fp16 has only the split pair, so 'auto' must fall back to it. */
function makeFullRepo(dir: string): void {
  writeRootFiles(dir);
  // Files no variant needs: a download must leave them alone.
  write(dir, 'README.md', '# tiny\n');
  write(dir, 'quantize_config.json', '{"per_channel": true}');
  write(dir, '.gitattributes', '*.onnx filter=lfs diff=lfs merge=lfs -text\n');
  write(dir, 'onnx/encoder_model.onnx', encodeModel(addGraph('encoder', { location: 'encoder_model.onnx_data', offset: 0, floats: ENCODER_FLOATS }, ENCODER_FLOATS)));
  write(dir, 'onnx/encoder_model.onnx_data', Buffer.from(randomFloats(ENCODER_FLOATS).buffer));
  write(dir, 'onnx/decoder_model_merged.onnx', mergedGraph('decoder_model_merged.onnx.data', SMALL_FLOATS));
  write(dir, 'onnx/decoder_model_merged.onnx.data', Buffer.from(randomFloats(2 * SMALL_FLOATS).buffer));
  write(dir, 'onnx/decoder_model.onnx', encodeModel(addGraph('decoder', { location: 'decoder_model.onnx_data', offset: 0, floats: SMALL_FLOATS }, SMALL_FLOATS)));
  write(dir, 'onnx/decoder_model.onnx_data', Buffer.from(randomFloats(SMALL_FLOATS).buffer));
  write(dir, 'onnx/decoder_with_past_model.onnx', encodeModel(addGraph('with_past', inline(), SMALL_FLOATS)));
  for (const name of ['encoder_model_quantized', 'decoder_model_merged_quantized', 'decoder_model_quantized', 'decoder_with_past_model_quantized', 'encoder_model_fp16', 'decoder_model_fp16', 'decoder_with_past_model_fp16']) {
    write(dir, `onnx/${name}.onnx`, encodeModel(addGraph(name, inline(), SMALL_FLOATS)));
  }
}

const CONFIGS = ROOT_FILES;
/** What each download must fetch, exactly. */
const EXPECTED = {
  default: [...CONFIGS, 'onnx/encoder_model.onnx', 'onnx/encoder_model.onnx_data', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx.data'],
  split: [...CONFIGS, 'onnx/encoder_model.onnx', 'onnx/encoder_model.onnx_data', 'onnx/decoder_model.onnx', 'onnx/decoder_model.onnx_data', 'onnx/decoder_with_past_model.onnx'],
  quantized: [...CONFIGS, 'onnx/encoder_model_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx'],
  fp16: [...CONFIGS, 'onnx/encoder_model_fp16.onnx', 'onnx/decoder_model_fp16.onnx', 'onnx/decoder_with_past_model_fp16.onnx'],
};

let hub: LocalHub;
let fullDir: string;
let savedEnv: Record<string, string | undefined>;

/** The repo files the requests since `seen` fetched (resolve URLs name them; LFS bytes then come from /cdn/). */
function fetchedSince(seen: number, repo = REPO): string[] {
  const prefix = `/${repo}/resolve/${hub.commitOf(repo)}/`;
  return [
    ...new Set(
      hub.requests
        .slice(seen)
        .filter((r) => r.path.startsWith(prefix))
        .map((r) => decodeURIComponent(r.path.slice(prefix.length))),
    ),
  ].sort();
}

/** Every file of the snapshot, as repo paths, each identical to the served file. */
function snapshotFiles(snapshot: string, repoDir = fullDir): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(snapshot, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(name);
      else {
        assert.ok(fs.readFileSync(path.join(snapshot, name)).equals(fs.readFileSync(path.join(repoDir, name))), `${name} is byte-identical`);
        out.push(name);
      }
    }
  };
  walk('');
  return out.sort();
}

async function rejectsWith(promise: Promise<unknown>, reason: HubErrorReason, ...patterns: RegExp[]): Promise<HubError> {
  const err = await promise.then(
    () => assert.fail(`expected a HubError (${reason})`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HubError, `expected a HubError, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  for (const pattern of patterns) assert.match(err.message, pattern);
  return err;
}

const blobOf = (snapshot: string, file: string) => fs.realpathSync(path.join(snapshot, file));

before(async () => {
  savedEnv = Object.fromEntries(HF_VARS.map((k) => [k, process.env[k]]));
  for (const k of HF_VARS) delete process.env[k];
  process.env.HF_HOME = tempDir('onnx-hf-home'); // never the runner's real cache or token
  fullDir = tempDir('onnx-repo-full');
  makeFullRepo(fullDir);
  const quantizedOnly = tempDir('onnx-repo-quantized');
  writeRootFiles(quantizedOnly);
  for (const name of ['encoder_model_quantized', 'decoder_model_merged_quantized']) write(quantizedOnly, `onnx/${name}.onnx`, encodeModel(addGraph(name, inline(), SMALL_FLOATS)));
  const withWeights = tempDir('onnx-repo-weights');
  for (const name of fs.readdirSync(MODEL_DIR)) fs.symlinkSync(path.join(MODEL_DIR, name), path.join(withWeights, name));
  write(withWeights, 'onnx/encoder_model.onnx', encodeModel(addGraph('encoder', inline(), SMALL_FLOATS)));
  write(withWeights, 'onnx/decoder_model_merged.onnx', encodeModel(addGraph('decoder', inline(), SMALL_FLOATS)));
  const escaping = tempDir('onnx-repo-escaping');
  writeRootFiles(escaping);
  write(escaping, 'onnx/encoder_model.onnx', encodeModel(addGraph('encoder', { location: '../config.json', offset: 0, floats: 4 }, 4)));
  write(escaping, 'onnx/decoder_model_merged.onnx', encodeModel(addGraph('decoder', inline(), SMALL_FLOATS)));
  hub = await startLocalHub({ [REPO]: { dir: fullDir }, [QUANTIZED_ONLY]: { dir: quantizedOnly }, [WITH_WEIGHTS]: { dir: withWeights }, [ESCAPING]: { dir: escaping } });
});

after(async () => {
  await hub?.close();
  removeAll();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

afterEach(() => {
  for (const key of Object.keys(hub.faults) as (keyof typeof hub.faults)[]) delete hub.faults[key];
});

describe('downloading a repository that holds only an ONNX export', () => {
  test('the default variant: configs, encoder and merged decoder with the external data they name, nothing else', async () => {
    const cache = tempDir('onnx-cache-default');
    const seen = hub.requests.length;
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assert.deepEqual(fetchedSince(seen), [...EXPECTED.default].sort());
    assert.deepEqual(snapshotFiles(snapshot), [...EXPECTED.default].sort());
    // Only the chosen files' bytes crossed the wire (LFS files come from /cdn/<sha256>).
    const cdn = hub.requests.slice(seen).filter((r) => r.path.startsWith('/cdn/')).map((r) => r.path.slice(5));
    const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(path.join(fullDir, f))).digest('hex');
    assert.deepEqual(new Set(cdn), new Set(EXPECTED.default.filter((f) => f.startsWith('onnx/')).map(sha)));

    assert.equal(findCachedModel(REPO, { cacheDir: cache }), snapshot);
    assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxVariant: 'default' }), snapshot);
    assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxVariant: 'quantized' }), null, 'another variant is not cached');
    assert.deepEqual(listCachedModels(cache).map((m) => m.revisions.map((r) => r.complete)), [[true]]);

    const again = hub.requests.length;
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), snapshot);
    assert.deepEqual(fetchedSince(again), [], 'a second download fetches nothing');
  });

  test('onnxRuntime runs a downloaded graph from the snapshot, its external data found through the cache links', async () => {
    const snapshot = await downloadModel(REPO, { cacheDir: tempDir('onnx-cache-run'), endpoint: hub.url });
    const session = await ModelSession.open(path.join(snapshot, 'onnx/encoder_model.onnx'), 'encoder');
    try {
      const x = new Float32Array(ENCODER_FLOATS).fill(1);
      const y = (await session.run({ x: floatTensor(x, [ENCODER_FLOATS]) })).y!.data as Float32Array;
      const w = new Float32Array(fs.readFileSync(path.join(fullDir, 'onnx/encoder_model.onnx_data')).buffer.slice(0));
      for (const i of [0, 1, ENCODER_FLOATS >> 1, ENCODER_FLOATS - 1]) assert.equal(y[i], Math.fround(1 + w[i]!), `y[${i}]`);
    } finally {
      await session.release();
    }
  });

  for (const [variant, expected] of [['quantized', EXPECTED.quantized], ['fp16', EXPECTED.fp16]] as const) {
    test(`the ${variant} variant fetches its own graphs only${variant === 'fp16' ? ' (the split pair: it has no merged decoder)' : ''}`, async () => {
      const cache = tempDir(`onnx-cache-${variant}`);
      const seen = hub.requests.length;
      const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, onnxVariant: variant });
      assert.deepEqual(fetchedSince(seen), [...expected].sort());
      assert.deepEqual(snapshotFiles(snapshot), [...expected].sort());
      assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxVariant: variant }), snapshot);
      assert.equal(findCachedModel(REPO, { cacheDir: cache }), null, 'the default variant was not downloaded');
    });
  }

  test('onnxDecoder split fetches the decoder pair instead of the merged decoder', async () => {
    const cache = tempDir('onnx-cache-split');
    const seen = hub.requests.length;
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, onnxDecoder: 'split' });
    assert.deepEqual(fetchedSince(seen), [...EXPECTED.split].sort());
    assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxDecoder: 'split' }), snapshot);
    assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxDecoder: 'merged' }), null);
  });

  test('a variant the repo lacks is refused before any file is fetched, naming the variants it has', async () => {
    const cache = tempDir('onnx-cache-missing');
    const seen = hub.requests.length;
    await rejectsWith(downloadModel(QUANTIZED_ONLY, { cacheDir: cache, endpoint: hub.url }), 'not-found', /quantized-only-onnx/, /without the default ONNX variant/, /onnx\/encoder_model\.onnx/, /complete variants: quantized/);
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, onnxVariant: 'fp16', onnxDecoder: 'merged' }), 'not-found', /fp16 ONNX variant \(merged decoder\)/, /decoder_model_merged_fp16\.onnx/, /complete variants: default, quantized, fp16/);
    assert.deepEqual(fetchedSince(seen, QUANTIZED_ONLY), []);
    assert.deepEqual(fetchedSince(seen, REPO), []);
    const snapshot = await downloadModel(QUANTIZED_ONLY, { cacheDir: cache, endpoint: hub.url, onnxVariant: 'quantized' });
    assert.deepEqual(fs.readdirSync(path.join(snapshot, 'onnx')).sort(), ['decoder_model_merged_quantized.onnx', 'encoder_model_quantized.onnx']);
  });

  test('a repo with weights downloads them as before and no ONNX file', async () => {
    const cache = tempDir('onnx-cache-weights');
    const seen = hub.requests.length;
    const snapshot = await downloadModel(WITH_WEIGHTS, { cacheDir: cache, endpoint: hub.url, onnxVariant: 'quantized' });
    const fetched = fetchedSince(seen, WITH_WEIGHTS);
    assert.ok(fetched.includes('model.safetensors') && fetched.includes('config.json'), fetched.join(', '));
    assert.ok(!fetched.some((f) => f.endsWith('.onnx')), fetched.join(', '));
    assert.ok(!fs.existsSync(path.join(snapshot, 'onnx')));
    assert.equal(findCachedModel(WITH_WEIGHTS, { cacheDir: cache, onnxVariant: 'fp16' }), snapshot, 'the variant does not matter for weights');
  });

  test('external data outside the graph folder is refused', async () => {
    const seen = hub.requests.length;
    await rejectsWith(downloadModel(ESCAPING, { cacheDir: tempDir('onnx-cache-escape'), endpoint: hub.url }), 'bad-response', /onnx\/encoder_model\.onnx/, /"\.\.\/config\.json", outside its folder/);
    assert.ok(!fetchedSince(seen, ESCAPING).some((f) => f.includes('..')));
  });
});

describe('resume and offline, as for weights', () => {
  const DATA = 'onnx/encoder_model.onnx_data';

  test('a connection cut inside the external data is resumed with a Range request', async () => {
    const cache = tempDir('onnx-cut');
    const cutAt = 2_000_000;
    hub.faults.cut = { file: DATA, afterBytes: cutAt, times: 1 };
    const seen = hub.requests.length;
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    const ranges = hub.requests.slice(seen).filter((r) => r.path.startsWith('/cdn/') && r.range !== undefined).map((r) => r.range);
    assert.equal(ranges.length, 1, JSON.stringify(ranges));
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[0] ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= cutAt, `resumed with ${ranges[0]}`);
    assert.deepEqual(snapshotFiles(snapshot), [...EXPECTED.default].sort());
  });

  test('a download that keeps failing keeps its partial file, and the next one continues it', async () => {
    const cache = tempDir('onnx-cut-again');
    hub.faults.cut = { file: DATA, afterBytes: 1_000_000, times: 1000 };
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, endpoint: hub.url }), 'interrupted', /encoder_model\.onnx_data/, /next download resumes/);
    const blobs = path.join(cache, `models--${REPO.replace('/', '--')}`, 'blobs');
    const partial = fs.readdirSync(blobs).find((b) => b.endsWith('.incomplete'))!;
    const kept = fs.statSync(path.join(blobs, partial)).size;
    assert.ok(kept > 1_000_000 && kept < ENCODER_FLOATS * 4, `kept ${kept}`);
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), null);

    delete hub.faults.cut;
    const seen = hub.requests.length;
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assert.deepEqual(hub.requests.slice(seen).filter((r) => r.path.startsWith('/cdn/') && r.range !== undefined).map((r) => r.range), [`bytes=${kept}-`]);
    assert.deepEqual(fetchedSince(seen), [DATA, 'onnx/decoder_model_merged.onnx.data'].sort(), 'files already here are not fetched again');
    assert.deepEqual(snapshotFiles(snapshot), [...EXPECTED.default].sort());
  });

  test('offline, the cached variant resolves without a request and a missing one is named', async () => {
    const cache = tempDir('onnx-offline');
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, offline: true }), 'offline-missing', /not in the cache/);
    const snapshot = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, onnxVariant: 'quantized' });
    const seen = hub.requests.length;
    assert.equal(await downloadModel(REPO, { cacheDir: cache, offline: true, onnxVariant: 'quantized' }), snapshot);
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, offline: true }), 'offline-missing', /lacks the default ONNX variant/, /onnx\/encoder_model\.onnx/, /complete variants: quantized/);
    assert.equal(hub.requests.length, seen, 'offline sends nothing');

    const full = await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assert.equal(full, snapshot, 'the second variant joins the same snapshot');
    fs.rmSync(blobOf(snapshot, DATA)); // the blob, not the link
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), null, 'a graph without its external data is not usable');
    assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxVariant: 'quantized' }), snapshot);
    await rejectsWith(downloadModel(REPO, { cacheDir: cache, offline: true }), 'offline-missing', /lacks onnx\/encoder_model\.onnx_data/);
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url });
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), snapshot, 'the next download repairs it');
  });
});

describe('listing the variants of a repository', () => {
  const size = (...files: string[]) => files.reduce((n, f) => n + fs.statSync(path.join(fullDir, f)).size, 0);

  test('from the Hub: every complete variant with its decoder and download size; none for a repo with weights', async () => {
    const variants = await listOnnxVariants(REPO, { cacheDir: tempDir('onnx-list'), endpoint: hub.url });
    assert.deepEqual(variants, [
      { variant: 'default', decoder: 'merged', bytes: size(...EXPECTED.default.filter((f) => f.startsWith('onnx/'))) },
      { variant: 'quantized', decoder: 'merged', bytes: size(...EXPECTED.quantized.filter((f) => f.startsWith('onnx/'))) },
      { variant: 'fp16', decoder: 'split', bytes: size(...EXPECTED.fp16.filter((f) => f.startsWith('onnx/'))) },
    ]);
    assert.deepEqual(await listOnnxVariants(WITH_WEIGHTS, { endpoint: hub.url }), []);
    assert.deepEqual((await listOnnxVariants(QUANTIZED_ONLY, { endpoint: hub.url })).map((v) => v.variant), ['quantized']);
  });

  test('offline: what the cached snapshot holds', async () => {
    const cache = tempDir('onnx-list-offline');
    assert.deepEqual(await listOnnxVariants(REPO, { cacheDir: cache, offline: true }), []);
    await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, onnxVariant: 'fp16' });
    assert.deepEqual(await listOnnxVariants(REPO, { cacheDir: cache, offline: true }), [{ variant: 'fp16', decoder: 'split', bytes: size(...EXPECTED.fp16.filter((f) => f.startsWith('onnx/'))) }]);
  });
});

/** Python's huggingface_hub against the same server: its metadata calls, its cache, our lookup. */
const python = pyrefPython();
const pythonSkip = (() => {
  if (!python) return 'the reference Python (.cache/pyref) is missing';
  const probe = spawnSync(python, ['-c', 'import huggingface_hub'], { encoding: 'utf8' });
  return probe.status === 0 ? false : 'huggingface_hub is not importable';
})();

describe('a variant fetched by Python huggingface_hub', { skip: pythonSkip }, () => {
  test('model_info sees LFS sizes and hashes; a snapshot_download of the quantized files is found and reused', async () => {
    const cache = tempDir('onnx-py-cache');
    const home = tempDir('onnx-py-home');
    const env = { PATH: process.env.PATH, HOME: home, HF_HOME: home, HF_ENDPOINT: hub.url, HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_PROGRESS_BARS: '1', HF_HUB_DISABLE_XET: '1', NO_PROXY: '127.0.0.1,localhost' };
    const code = `
import json, sys
from huggingface_hub import HfApi, snapshot_download
a = json.loads(sys.argv[1])
info = HfApi().model_info(a["repo"], files_metadata=True)
lfs = {s.rfilename: [s.size, s.lfs.sha256 if s.lfs else None] for s in info.siblings}
path = snapshot_download(a["repo"], cache_dir=a["cache"], allow_patterns=a["patterns"])
print(json.dumps({"lfs": lfs, "path": path}))
`;
    const patterns = [...CONFIGS, 'onnx/*_quantized.onnx'];
    const { stdout } = await promisify(execFile)(python!, ['-c', code, JSON.stringify({ repo: REPO, cache, patterns })], { env, timeout: 120_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { lfs: Record<string, [number, string | null]>; path: string };
    const file = 'onnx/encoder_model.onnx_data';
    const bytes = fs.readFileSync(path.join(fullDir, file));
    assert.deepEqual(out.lfs[file], [bytes.length, crypto.createHash('sha256').update(bytes).digest('hex')]);
    assert.equal(out.lfs['config.json']![1], null, 'config.json is a plain git file');
    assert.ok(!fs.existsSync(path.join(out.path, 'onnx/encoder_model_fp16.onnx')), 'Python fetched only the patterns');

    assert.equal(findCachedModel(REPO, { cacheDir: cache, onnxVariant: 'quantized' }), out.path);
    assert.equal(findCachedModel(REPO, { cacheDir: cache }), null);
    const seen = hub.requests.length;
    assert.equal(await downloadModel(REPO, { cacheDir: cache, endpoint: hub.url, onnxVariant: 'quantized' }), out.path);
    assert.deepEqual(fetchedSince(seen), [], "Python's files were reused");
  });
});

describe('external data references', () => {
  test('are read from initializers, including those inside If branches; a truncated graph is an error', () => {
    assert.deepEqual(externalDataLocations(path.join(fullDir, 'onnx/decoder_model_merged.onnx')), ['decoder_model_merged.onnx.data']);
    assert.deepEqual(externalDataLocations(path.join(fullDir, 'onnx/encoder_model.onnx')), ['encoder_model.onnx_data']);
    assert.deepEqual(externalDataLocations(path.join(fullDir, 'onnx/decoder_with_past_model.onnx')), []);
    const truncated = path.join(tempDir('onnx-truncated'), 'encoder_model.onnx');
    const bytes = fs.readFileSync(path.join(fullDir, 'onnx/decoder_with_past_model.onnx'));
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    assert.throws(() => externalDataLocations(truncated), (err: unknown) => err instanceof CheckpointError && /not a valid ONNX model file/.test(err.message));
  });
});
