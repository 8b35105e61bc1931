import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSafetensorsHeader, readTensorBytes } from '../../model-runtime/src/checkpoint/safetensors';
import { FIXTURE_ROOT, MODEL_DIR, trackedTempDirs } from '../helpers/fixture';
import { writeSafetensors, type RawTensor } from '../helpers/safetensors-writer';
import { buildZip } from '../helpers/zip-writer';

/**
 * A corpus of broken model folders, each made here from the fixture's config.json and
 * model.safetensors, run through the built CLI (npm run build) as `generate` and as `batch`.
 * Every one must be refused with exactly one line on stderr that names the file (and the key
 * or tensor), exit 1 (2 for usage errors), never an internal error (exit 70), within seconds
 * and without allocating for what the broken config claims. Peak RSS comes from the child
 * itself (process.resourceUsage at exit, through a --require preload), so CI installs nothing.
 */
const CLI = path.resolve(__dirname, '../../dist/cli.js');
const IMAGE = path.join(FIXTURE_ROOT, 'images/chart_640x480.png');
const RUN_FLAGS = ['--max-patches', '64', '--max-new-tokens', '2', '--precision', 'fp32'];
// A refusal happens before any graph is built: a Node start plus JSON and header reads. The
// bounds leave room for a loaded 2-core CI machine; the intact control runs the model.
const REFUSAL_MS = 10_000;
const REFUSAL_RSS_MB = 300;
const KILL_MS = 60_000;

const temp = trackedTempDirs();
after(() => temp.removeAll());

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  rssMb: number;
  timedOut: boolean;
}

let root = '';
let preload = '';
let imageDir = '';
let cacheDir = '';
let weights: Map<string, RawTensor>;

before(() => {
  assert.ok(fs.existsSync(CLI), 'run npm run build first');
  root = temp.tempDir('broken-models');
  preload = path.join(root, 'peak-rss.js');
  fs.writeFileSync(
    preload,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.P2S_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  imageDir = path.join(root, 'images');
  fs.mkdirSync(imageDir);
  fs.copyFileSync(IMAGE, path.join(imageDir, 'chart.png'));
  cacheDir = path.join(root, 'graph-cache');
  const header = readSafetensorsHeader(path.join(MODEL_DIR, 'model.safetensors'));
  weights = new Map([...header.tensors].map(([name, e]) => [name, { dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) }]));
});

/** Runs the CLI, killing it if it hangs (a FIFO read would), and reports its peak RSS. */
function cli(args: string[]): Promise<Run> {
  const rssFile = path.join(root, `rss-${process.hrtime.bigint()}`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--require', preload, CLI, ...args], { env: { ...process.env, P2S_PEAK_RSS_FILE: rssFile } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, KILL_MS);
  return new Promise((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      const rssKb = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) : NaN;
      resolve({ status, stdout, stderr, ms: performance.now() - started, rssMb: rssKb / 1024, timedOut });
    });
  });
}

const generateArgs = (model: string, extra: string[] = []) => ['generate', '--model', model, '--image', IMAGE, '--json', '--cache-dir', cacheDir, ...RUN_FLAGS, ...extra];
const batchArgs = (model: string, extra: string[] = []) => ['batch', '--model', model, '--input', imageDir, '--cache-dir', cacheDir, ...RUN_FLAGS, ...extra];

// --- Making the folders -------------------------------------------------------------------

/** A folder with the fixture's config.json and a link to its model.safetensors (as the HF cache links blobs). */
function baseFolder(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(MODEL_DIR, 'config.json'), path.join(dir, 'config.json'));
  fs.symlinkSync(path.join(MODEL_DIR, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  return dir;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function editConfig(dir: string, edit: (c: Json) => void): void {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
}

/** Replaces the weights link with a safetensors file written from (edited) fixture tensors. */
function rewriteWeights(dir: string, edit: (t: Map<string, RawTensor>) => void, overrides: Record<string, Record<string, unknown>> = {}): void {
  const tensors = new Map(weights);
  edit(tensors);
  fs.rmSync(path.join(dir, 'model.safetensors'));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, overrides);
}

function replaceWeights(dir: string, make: (file: string) => void): void {
  fs.rmSync(path.join(dir, 'model.safetensors'));
  make(path.join(dir, 'model.safetensors'));
}

const fixtureBytes = () => fs.readFileSync(path.join(MODEL_DIR, 'model.safetensors'));


/** A protocol-2 pickle of {name: os.system(command)}: unpickling it with Python's pickle runs the command. */
function pickleRunningCommand(name: string, command: string): Buffer {
  const unicode = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return Buffer.concat([Buffer.from('X'), length, bytes]); // BINUNICODE
  };
  return Buffer.concat([
    Buffer.from([0x80, 0x02]), // PROTO 2
    Buffer.from('}'), // EMPTY_DICT
    unicode(name),
    Buffer.from('cposix\nsystem\n'), // GLOBAL os.system, as pickle spells it on Linux
    unicode(command),
    Buffer.from([0x85]), // TUPLE1
    Buffer.from('R'), // REDUCE: the call
    Buffer.from('s.'), // SETITEM, STOP
  ]);
}

const hasMkfifo = process.platform !== 'win32' && spawnSync('mkfifo', ['--version']).status === 0;

// --- The corpus ---------------------------------------------------------------------------

interface BrokenCase {
  name: string;
  /** Breaks a base folder (see baseFolder); returns the --model path when it is not the folder. */
  make: (dir: string) => string | void;
  /** The file the line must name, relative to the folder ('' for the folder itself; null: a flag, no file). */
  file: string | null;
  /** What else the line must say: the key or tensor, and why. */
  says: RegExp;
  /** Extra CLI flags. */
  flags?: string[];
  /** 2 for usage errors. */
  status?: number;
  /** When batch answers differently from generate. */
  batchStatus?: number;
  skip?: string | false;
}

const LAYER0_QUERY = 'encoder.encoder.layer.0.attention.query.weight';
const FINAL_NORM = 'encoder.layernorm.weight';
const PRE_ATTENTION_NORM = 'encoder.encoder.layer.0.pre_attention_layer_norm.weight';
const marker = () => path.join(root, 'pickle-ran-a-command');

const CASES: BrokenCase[] = [
  // config.json itself
  { name: 'no config.json', make: (d) => fs.rmSync(path.join(d, 'config.json')), file: 'config.json', says: /: file not found/ },
  { name: 'empty config.json', make: (d) => fs.writeFileSync(path.join(d, 'config.json'), ''), file: 'config.json', says: /: is empty/ },
  {
    name: 'config.json with a trailing comma',
    make: (d) => fs.writeFileSync(path.join(d, 'config.json'), fs.readFileSync(path.join(MODEL_DIR, 'config.json'), 'utf8').replace(/\n}\s*$/, ',\n}\n')),
    file: 'config.json',
    says: /: not valid JSON at line \d+, column \d+: expected double-quoted property name/,
  },
  { name: 'config.json is cut short', make: (d) => fs.writeFileSync(path.join(d, 'config.json'), '{"model_type": "pix2struct", "text_con'), file: 'config.json', says: /: not valid JSON at line 1, column 39: unterminated string/ },
  { name: 'config.json is not an object', make: (d) => fs.writeFileSync(path.join(d, 'config.json'), '[1, 2]'), file: 'config.json', says: /: expected a JSON object/ },
  {
    name: 'config.json is a directory',
    make: (d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.mkdirSync(path.join(d, 'config.json'));
    },
    file: 'config.json',
    says: /: is a directory, not a regular file/,
  },
  { name: 'model_type t5', make: (d) => editConfig(d, (c) => (c.model_type = 't5')), file: 'config.json', says: /"model_type" is "t5", expected "pix2struct"/ },
  // absurd, negative, fractional and string sizes
  { name: 'a billion decoder layers', make: (d) => editConfig(d, (c) => (c.text_config.num_layers = 1e9)), file: 'config.json', says: /text_config "num_layers" is 1000000000, more than 256/ },
  { name: 'a billion encoder heads', make: (d) => editConfig(d, (c) => (c.vision_config.num_attention_heads = 1e9)), file: 'config.json', says: /vision_config "num_attention_heads" is 1000000000, more than 256/ },
  { name: 'a billion-token vocabulary', make: (d) => editConfig(d, (c) => (c.text_config.vocab_size = 1e9)), file: 'config.json', says: /text_config "vocab_size" is 1000000000, more than 10000000/ },
  { name: 'seq_len 1e300', make: (d) => editConfig(d, (c) => (c.vision_config.seq_len = 1e300)), file: 'config.json', says: /vision_config "seq_len" is 1e\+300, more than 65536/ },
  { name: 'attention wider than any model', make: (d) => editConfig(d, (c) => Object.assign(c.vision_config, { num_attention_heads: 256, d_kv: 1024 })), file: 'config.json', says: /vision_config "num_attention_heads" × "d_kv" is 256 × 1024 = 262144/ },
  { name: 'negative d_ff', make: (d) => editConfig(d, (c) => (c.vision_config.d_ff = -1)), file: 'config.json', says: /vision_config "d_ff" must be a positive integer, got -1/ },
  { name: 'fractional layer count', make: (d) => editConfig(d, (c) => (c.text_config.num_layers = 2.5)), file: 'config.json', says: /text_config "num_layers" must be a positive integer, got 2\.5/ },
  { name: 'head count as a string', make: (d) => editConfig(d, (c) => (c.text_config.num_heads = '4')), file: 'config.json', says: /text_config "num_heads" must be a positive integer, got "4"/ },
  { name: 'decoder start token outside the vocabulary', make: (d) => editConfig(d, (c) => (c.decoder_start_token_id = 50244)), file: 'config.json', says: /"decoder_start_token_id" is 50244, outside the 50244-token vocabulary/ },
  // aliases
  {
    name: 'num_layers and its alias num_hidden_layers disagree',
    make: (d) => editConfig(d, (c) => (c.text_config.num_hidden_layers = 3)),
    file: 'config.json',
    says: /text_config sets the same size twice with different values: "num_layers" is 2 but "num_hidden_layers" .* is 3/,
  },
  {
    name: 'vision_config "num_layers", which transformers ignores, disagrees',
    make: (d) => editConfig(d, (c) => (c.vision_config.num_layers = 3)),
    file: 'config.json',
    says: /vision_config "num_layers" is 3, but transformers ignores that key here and uses "num_hidden_layers" = 2/,
  },
  // tensors against the config
  { name: 'a missing tensor', make: (d) => rewriteWeights(d, (t) => t.delete(LAYER0_QUERY)), file: 'model.safetensors', says: new RegExp(`tensor "${LAYER0_QUERY}"\\): missing from the checkpoint`) },
  {
    name: 'an unused tensor',
    make: (d) => rewriteWeights(d, (t) => t.set('decoder.adapter.weight', { ...t.get(FINAL_NORM)! })),
    file: 'model.safetensors',
    says: /tensor "decoder\.adapter\.weight"\): is not used by the model config\.json describes: weights of another architecture/,
  },
  {
    name: 'config.json declares fewer layers than the weights hold',
    make: (d) => editConfig(d, (c) => (c.text_config.num_layers = 1)),
    file: 'model.safetensors',
    says: /tensor "decoder\.layer\.1\.[^"]+"\): is not used by the model config\.json describes and 13 more .*: the weights have decoder layer 1 but text_config "num_layers" is 1/,
  },
  {
    name: 'a tensor of the wrong shape',
    make: (d) => rewriteWeights(d, (t) => t.set(LAYER0_QUERY, { ...t.get(LAYER0_QUERY)!, shape: [32, 128] })),
    file: 'model.safetensors',
    says: new RegExp(`tensor "${LAYER0_QUERY}"\\): has shape \\[32, 128\\] but config\\.json implies \\[64, 64\\]`),
  },
  { name: 'an unsupported dtype', make: (d) => rewriteWeights(d, () => {}, { [LAYER0_QUERY]: { dtype: 'F64' } }), file: 'model.safetensors', says: /dtype "F64" is not supported/ },
  // broken safetensors files
  { name: 'safetensors cut inside the header', make: (d) => replaceWeights(d, (f) => fs.writeFileSync(f, fixtureBytes().subarray(0, 100))), file: 'model.safetensors', says: /header length \d+ does not fit in a 100-byte file/ },
  {
    name: 'safetensors cut inside the data',
    make: (d) => replaceWeights(d, (f) => fs.writeFileSync(f, fixtureBytes().subarray(0, fixtureBytes().length - 1000))),
    file: 'model.safetensors',
    says: /point past the end of the data .*truncated/,
  },
  {
    name: 'a header length that lies',
    make: (d) =>
      replaceWeights(d, (f) => {
        const bytes = Buffer.from(fixtureBytes());
        bytes.writeBigUInt64LE(1n << 60n, 0);
        fs.writeFileSync(f, bytes);
      }),
    file: 'model.safetensors',
    says: /header length 1152921504606846976 does not fit/,
  },
  {
    name: 'overlapping data offsets',
    make: (d) => {
      const order = [...weights.keys()];
      const offsetOf = (name: string) => order.slice(0, order.indexOf(name)).reduce((n, k) => n + weights.get(k)!.data.byteLength, 0);
      const begin = offsetOf(FINAL_NORM);
      rewriteWeights(d, () => {}, { [PRE_ATTENTION_NORM]: { data_offsets: [begin, begin + weights.get(FINAL_NORM)!.data.byteLength] } });
    },
    file: 'model.safetensors',
    says: /data overlaps tensor/,
  },
  // the weights path is not a regular file
  { name: 'weights path is a directory', make: (d) => replaceWeights(d, (f) => fs.mkdirSync(f)), file: 'model.safetensors', says: /: is a directory, not a regular file/ },
  {
    name: 'weights path is a FIFO',
    make: (d) => replaceWeights(d, (f) => assert.equal(spawnSync('mkfifo', [f]).status, 0)),
    file: 'model.safetensors',
    says: /: is a named pipe \(FIFO\), not a regular file/,
    skip: !hasMkfifo && 'needs mkfifo',
  },
  {
    name: 'weights path is a symbolic link loop',
    make: (d) =>
      replaceWeights(d, (f) => {
        fs.symlinkSync(path.join(d, 'b.safetensors'), path.join(d, 'a.safetensors'));
        fs.symlinkSync(path.join(d, 'a.safetensors'), path.join(d, 'b.safetensors'));
        fs.symlinkSync(path.join(d, 'a.safetensors'), f);
      }),
    file: 'model.safetensors',
    says: /: is a symbolic link loop/,
    skip: process.platform === 'win32' && 'symbolic links need privileges on Windows',
  },
  {
    name: 'weights path is a dangling symbolic link',
    make: (d) => replaceWeights(d, (f) => fs.symlinkSync(path.join(d, 'blobs', 'deleted'), f)),
    file: 'model.safetensors',
    says: /: is a symbolic link to ".*blobs\/deleted", which does not exist/,
    skip: process.platform === 'win32' && 'symbolic links need privileges on Windows',
  },
  {
    name: 'weights path is a character device',
    make: (d) => replaceWeights(d, (f) => fs.symlinkSync('/dev/zero', f)),
    file: 'model.safetensors',
    says: /: is a character device, not a regular file/,
    skip: !fs.existsSync('/dev/zero') && 'needs /dev/zero',
  },
  // sharded weights
  {
    name: 'index names a shard that is not there',
    make: (d) =>
      replaceWeights(d, () => {
        const map = Object.fromEntries([...weights.keys()].map((k) => [k, 'model-00001-of-00002.safetensors']));
        fs.writeFileSync(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
      }),
    file: 'model.safetensors.index.json',
    says: /weight_map names shard "model-00001-of-00002\.safetensors" for 55 tensor\(s\), but the folder has no such file/,
  },
  {
    name: 'index names a path outside the folder',
    make: (d) =>
      replaceWeights(d, () => {
        const map = Object.fromEntries([...weights.keys()].map((k) => [k, '../model-a/model.safetensors']));
        fs.writeFileSync(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
      }),
    file: 'model.safetensors.index.json',
    says: /weight_map names "\.\.\/model-a\/model\.safetensors", which is not a file name inside the model folder/,
  },
  // pytorch_model.bin
  {
    name: 'pickled .bin that would run a command',
    make: (d) =>
      replaceWeights(d, () => {
        const pickle = pickleRunningCommand('decoder.lm_head.weight', `touch ${marker()}`);
        fs.writeFileSync(path.join(d, 'pytorch_model.bin'), buildZip([{ name: 'archive/data.pkl', data: pickle }, { name: 'archive/version', data: Buffer.from('3\n') }]));
      }),
    file: 'pytorch_model.bin',
    says: /archive\/data\.pkl: refusing to unpickle .*posix\.system/,
  },
  {
    name: 'truncated .bin',
    make: (d) =>
      replaceWeights(d, () => {
        const zip = buildZip([{ name: 'archive/data.pkl', data: Buffer.from([0x80, 0x02, 0x7d, 0x2e]) }]);
        fs.writeFileSync(path.join(d, 'pytorch_model.bin'), zip.subarray(0, zip.length - 10));
      }),
    file: 'pytorch_model.bin',
    says: /not a zip archive: no end-of-central-directory record \(truncated/,
  },
  // folders without a model
  {
    name: 'empty folder',
    make: (d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.rmSync(path.join(d, 'model.safetensors'));
    },
    file: 'config.json',
    says: /: file not found \(is this a Hugging Face Pix2Struct checkpoint folder\?\)/,
  },
  {
    name: 'folder with only an ONNX file besides its config',
    make: (d) => replaceWeights(d, () => fs.writeFileSync(path.join(d, 'model.onnx'), 'not really onnx')),
    file: '',
    // generate tries the folder as an ONNX export, which batch cannot run (a usage error there).
    says: /ONNX export/,
    batchStatus: 2,
  },
  {
    name: 'model path is a file',
    make: (d) => path.join(d, 'config.json'),
    file: 'config.json',
    says: /: is a file, not a model folder/,
  },
  {
    name: 'model path is a symbolic link loop',
    make: (d) => {
      fs.symlinkSync(path.join(d, 'loop-b'), path.join(d, 'loop-a'));
      fs.symlinkSync(path.join(d, 'loop-a'), path.join(d, 'loop-b'));
      return path.join(d, 'loop-a');
    },
    file: 'loop-a',
    says: /: model folder is a symbolic link loop/,
    skip: process.platform === 'win32' && 'symbolic links need privileges on Windows',
  },
  // the other JSON files of a folder
  { name: 'tokenizer.json not valid JSON', make: (d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), '{"version": "1.0", "model": }'), file: 'tokenizer.json', says: /: not valid JSON at line 1, column 29/ },
  { name: 'preprocessor_config.json not valid JSON', make: (d) => fs.writeFileSync(path.join(d, 'preprocessor_config.json'), '{\n  "max_patches": 2048\n  "is_vqa": false\n}'), file: 'preprocessor_config.json', says: /not valid JSON at line 3, column 3/ },
  { name: 'a billion patches in preprocessor_config.json', make: (d) => fs.writeFileSync(path.join(d, 'preprocessor_config.json'), '{"max_patches": 1000000000}'), file: 'preprocessor_config.json', says: /"max_patches" is 1000000000, more than 65536/ },
  { name: 'patches of 1000 pixels a side', make: (d) => fs.writeFileSync(path.join(d, 'preprocessor_config.json'), '{"patch_size": {"height": 1000, "width": 16}}'), file: 'preprocessor_config.json', says: /"patch_size\.height" is 1000, more than 256/ },
  { name: 'generation_config.json num_beams as words', make: (d) => fs.writeFileSync(path.join(d, 'generation_config.json'), '{"num_beams": "three"}'), file: 'generation_config.json', says: /"num_beams" must be a positive integer, got "three"/ },
  { name: 'a trillion new tokens in generation_config.json', make: (d) => fs.writeFileSync(path.join(d, 'generation_config.json'), '{"max_new_tokens": 1000000000000}'), file: 'generation_config.json', says: /"max_new_tokens" is 1000000000000, more than 65536/ },
  // what users type
  { name: '--max-patches of a billion', make: () => {}, file: null, says: /--max-patches is 1000000000, more than 65536/, flags: ['--max-patches', '1000000000'], status: 2 },
  { name: '--max-new-tokens of a billion', make: () => {}, file: null, says: /--max-new-tokens is 1000000000, more than 65536/, flags: ['--max-new-tokens', '1000000000'], status: 2 },
];

interface Measured {
  name: string;
  command: string;
  ms: number;
  rssMb: number;
}
const measured: Measured[] = [];

/** The one line a refusal may print: the prefix, the file, what is wrong; no stack, no internal error. */
function assertRefusal(c: BrokenCase, command: string, r: Run, dir: string, model: string): void {
  const where = `${c.name} (${command})`;
  assert.ok(!r.timedOut, `${where}: still running after ${KILL_MS} ms`);
  assert.notEqual(r.status, 70, `${where}: internal error: ${r.stderr}`);
  const status = (command === 'batch' ? c.batchStatus : undefined) ?? c.status ?? 1;
  assert.equal(r.status, status, `${where}: exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stdout, '', `${where}: printed to stdout`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${where}: expected one line on stderr, got:\n${r.stderr}`);
  const line = lines[0]!;
  assert.match(line, /^pix2struct: error: /, where);
  if (c.file !== null) assert.ok(line.includes(c.file ? path.join(dir, c.file) : model), `${where}: does not name ${c.file || model}: ${line}`);
  assert.match(line, c.says, where);
  assert.ok(r.ms < REFUSAL_MS, `${where}: took ${Math.round(r.ms)} ms`);
  assert.ok(r.rssMb < REFUSAL_RSS_MB, `${where}: peak RSS ${r.rssMb.toFixed(0)} MB`);
}

describe('broken model folders are refused by generate and batch in one clear line', () => {
  test('the corpus is large enough', () => assert.ok(CASES.length >= 25, `${CASES.length} cases`));

  test('control: the intact base folder runs, and text_config may spell num_layers as num_hidden_layers', async () => {
    const dir = baseFolder('control');
    const aliased = baseFolder('control-alias');
    editConfig(aliased, (c) => {
      c.text_config.num_hidden_layers = c.text_config.num_layers;
      delete c.text_config.num_layers;
    });
    const plain = await cli(generateArgs(dir));
    assert.equal(plain.status, 0, plain.stderr);
    const viaAlias = await cli(generateArgs(aliased));
    assert.equal(viaAlias.status, 0, viaAlias.stderr);
    assert.deepEqual(JSON.parse(viaAlias.stdout).token_ids, JSON.parse(plain.stdout).token_ids);
    const batch = await cli(batchArgs(dir));
    assert.equal(batch.status, 0, batch.stderr);
    measured.push({ name: 'control', command: 'generate', ms: plain.ms, rssMb: plain.rssMb }, { name: 'control', command: 'batch', ms: batch.ms, rssMb: batch.rssMb });
  });

  for (const [i, c] of CASES.entries()) {
    test(c.name, { skip: c.skip || false }, async () => {
      const dir = baseFolder(`case-${i}`);
      const model = c.make(dir) ?? dir;
      for (const [command, args] of [
        ['generate', generateArgs(model, c.flags)],
        ['batch', batchArgs(model, c.flags)],
      ] as const) {
        const r = await cli(args);
        assertRefusal(c, command, r, dir, model);
        measured.push({ name: c.name, command, ms: r.ms, rssMb: r.rssMb });
      }
    });
  }

  test('the pickled command never ran', () => assert.equal(fs.existsSync(marker()), false));

  test('slowest and largest refusals', (t) => {
    const refusals = measured.filter((m) => m.name !== 'control');
    assert.ok(refusals.length > 0);
    const show = (m: Measured) => `${m.name} (${m.command}): ${Math.round(m.ms)} ms, ${m.rssMb.toFixed(0)} MB`;
    for (const m of [...refusals].sort((a, b) => b.ms - a.ms).slice(0, 3)) t.diagnostic(`slowest: ${show(m)}`);
    for (const m of [...refusals].sort((a, b) => b.rssMb - a.rssMb).slice(0, 3)) t.diagnostic(`largest: ${show(m)}`);
    for (const m of measured.filter((x) => x.name === 'control')) t.diagnostic(`control run: ${show(m)}`);
  });
});
