/**
 * The Node half of bench/gpu.sh. Prints one JSON object per call; exit 0 when the check passed,
 * 1 when it failed, 3 when the provider asked for did not run (the JSON says why).
 *
 *   survey                        execution providers this build has, the Vulkan drivers and GPUs
 *                                 the loader would see, and what auto would do about WebGPU and CUDA
 *   parity --provider P           the fixture model (PIX2STRUCT_FIXTURE, model-a, 256 patches) on P
 *                                 against transformers' references and against the CPU provider:
 *                                 greedy ids equal, encoder states / logits within --atol
 *   parity --provider P --model DIR --image PNG [--patches 1024] [--tokens 32]
 *                                 any checkpoint (the base-shape random one) on P against the CPU
 *                                 provider: encoder states (relative), first-step logits, greedy ids
 *                                 (a divergence is accepted only where the CPU's top-2 margin is
 *                                 within the tolerance: a tie broken the other way)
 *   probe --provider P            com.microsoft MultiHeadAttention alone on P against a float64
 *                                 reference, for query lengths 1..242 (the encoder uses it)
 *   time --provider P --model DIR --image PNG [--patches 2048] [--tokens 32] [--repeats 3]
 *                                 end to end: preprocess + encode + `tokens` greedy steps, eos off
 *   summary --results DIR         one line per result file gpu.sh wrote there
 *
 * Common: --cache-dir DIR (graph cache), --provider-dir DIR (an "Enable CUDA" install root),
 * --allow-software (explicit providers only; without it a software WebGPU adapter fails `parity`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  decodeImage,
  findCudaProviderInstall,
  GraphBuilder,
  hardwareVulkanDrivers,
  libraryFindable,
  Pix2StructModel,
  precheckProvider,
  preprocessImage,
  surveyVulkan,
  webgpuSkipReason,
  type ExecutionProviderName,
} from '../model-runtime/src/index';

/**
 * Per-provider tolerance (max |diff| against transformers' float32 references). WebGPU runs our
 * float32 graphs in float32: 1e-4, the fixture's tolerance for a port (measured 2.6e-6 on lavapipe
 * with unfused attention). CUDA's provider runs float32 matmuls as TF32 on Ampere and later by
 * default (10-bit mantissa, ~5e-4 relative per product), so logits of this small model move by
 * ~1e-3..1e-2: 3e-2 there, and the greedy ids must still match exactly. A float16 graph would
 * need the CUDA figure too.
 */
const DEFAULT_ATOL: Record<string, number> = { cpu: 1e-4, webgpu: 1e-4, cuda: 3e-2, dml: 3e-2, coreml: 3e-2 };

interface Args {
  command: string;
  provider: ExecutionProviderName;
  cacheDir: string;
  providerDir: string | undefined;
  allowSoftware: boolean;
  atol: number;
  model: string;
  image: string;
  patches: number;
  tokens: number;
  repeats: number;
  results: string;
}

function parse(argv: string[]): Args {
  const get = (name: string, fallback?: string): string => {
    const i = argv.lastIndexOf(`--${name}`);
    if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1]!;
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  };
  const command = argv[0] ?? '';
  if (!['survey', 'parity', 'probe', 'time', 'summary'].includes(command)) throw new Error('usage: gpu_check.ts survey|parity|probe|time|summary [--provider webgpu|cuda] ...');
  const provider = get('provider', 'webgpu') as ExecutionProviderName;
  return {
    command,
    provider,
    cacheDir: get('cache-dir', path.join('.cache', 'gpu', 'graphs')),
    providerDir: argv.includes('--provider-dir') ? get('provider-dir') : undefined,
    allowSoftware: argv.includes('--allow-software'),
    atol: Number(get('atol', String(DEFAULT_ATOL[provider] ?? 1e-4))),
    model: get('model', ''),
    image: get('image', ''),
    patches: Number(get('patches', '2048')),
    tokens: Number(get('tokens', '32')),
    repeats: Number(get('repeats', '3')),
    results: get('results', ''),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function bindingDir(): string {
  return path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
}

function survey(args: Args) {
  const supported = ort.listSupportedBackends();
  const vulkan = process.platform === 'linux' ? surveyVulkan() : null;
  const ctx = { ...(args.providerDir ? { providerLibraryDir: args.providerDir } : {}), vulkan };
  return {
    node: process.version,
    onnxruntime: ort.env.versions.common,
    supported,
    vulkan,
    webgpu_auto: webgpuSkipReason(process.platform, vulkan, false) ?? `would run (${vulkan ? hardwareVulkanDrivers(vulkan).map((d) => d.name).join(', ') : process.platform})`,
    webgpu_explicit: webgpuSkipReason(process.platform, vulkan, true) ?? 'would be tried',
    cuda: precheckProvider('cuda', supported, bindingDir(), ctx) ?? 'would be tried',
    cuda_install: args.providerDir ? findCudaProviderInstall(args.providerDir)?.dir ?? null : null,
    cuda_system_libraries: Object.fromEntries(['libcuda.so.1', 'libcudart.so.12', 'libcublasLt.so.12', 'libcudnn.so.9'].map((l) => [l, libraryFindable(l)])),
  };
}

// ---- the fixture: references written by transformers (test/helpers/fixture.ts reads the same files)

const FIXTURE = path.resolve(process.env.PIX2STRUCT_FIXTURE ?? path.join(__dirname, '../../shared/fixtures/pix2struct-tiny'));

function fixtureIndex() {
  const file = path.join(FIXTURE, 'index.json');
  if (!fs.existsSync(file)) throw new Error(`no fixture at ${FIXTURE}: set PIX2STRUCT_FIXTURE to the pix2struct-tiny folder`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return JSON.parse(fs.readFileSync(file, 'utf8')) as any;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function reference(index: any, key: string): Float32Array {
  const info = index.tensors[key];
  const raw = (require('node:zlib') as typeof import('node:zlib')).gunzipSync(fs.readFileSync(path.join(FIXTURE, info.file)));
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function referenceInputs(index: any, image: string) {
  const ref = index.models['model-a'].images[image];
  const attentionMask = reference(index, ref.input_attention_mask);
  const numPatches = attentionMask.reduce((n, v) => n + v, 0);
  return { flattenedPatches: reference(index, ref.input_flattened_patches), attentionMask, maxPatches: attentionMask.length, numPatches, rows: 0, cols: 0, resizedHeight: 0, resizedWidth: 0 };
}

async function runFixture(provider: ExecutionProviderName, args: Args) {
  const index = fixtureIndex();
  const model = await Pix2StructModel.load(path.join(FIXTURE, 'model-a'), {
    executionProvider: provider,
    precision: 'fp32',
    cacheDir: args.cacheDir,
    ...(args.providerDir ? { providerLibraryDir: args.providerDir } : {}),
  });
  const images: Record<string, { encoder: number; logits0: number; top5: number; ids: number[]; refIds: number[] }> = {};
  try {
    for (const image of ['chart', 'ui', 'photo']) {
      const ref = index.models['model-a'].images[image];
      const inputs = referenceInputs(index, image);
      const encoding = await model.encode(inputs);
      const hidden = index.tensors[ref.encoder_last_hidden_state].shape[1] as number;
      const got = encoding.lastHiddenState.data as Float32Array;
      const encoder = maxAbsDiff(got, reference(index, ref.encoder_last_hidden_state).subarray(0, got.length));
      const logits0 = maxAbsDiff(await model.decoderFor(encoding).forward([[0]]), reference(index, ref.logits_step0));
      const result = await model.generate(encoding, { maxNewTokens: ref.greedy_ids.length - 1 });
      let top5 = 0;
      result.steps!.forEach((s, i) => (top5 = Math.max(top5, maxAbsDiff(s.values, ref.greedy_step_top5[i].logits))));
      images[image] = { encoder, logits0, top5, ids: result.tokenIds, refIds: ref.greedy_ids, ...(got.length !== inputs.numPatches * hidden ? { encoderRows: got.length / hidden } : {}) };
    }
    return { provider: model.provider, images };
  } finally {
    await model.release();
  }
}

interface ModelRun {
  provider: { used: string; skipped: { name: string; reason: string }[] };
  states: Float32Array;
  logits0: Float32Array;
  ids: number[];
  steps: { ids: number[]; values: number[] }[];
}

async function runModel(provider: ExecutionProviderName, args: Args): Promise<ModelRun> {
  const model = await Pix2StructModel.load(args.model, {
    executionProvider: provider,
    precision: 'fp32',
    cacheDir: args.cacheDir,
    ...(args.providerDir ? { providerLibraryDir: args.providerDir } : {}),
  });
  try {
    const image = await preprocessImage(await decodeImage(args.image), model.checkpoint.preprocessor, { maxPatches: args.patches });
    const encoding = await model.encode(image);
    const start = model.checkpoint.generation.decoderStartTokenId;
    const logits0 = Float32Array.from(await model.decoderFor(encoding).forward([[start]]));
    const result = await model.generate(encoding, { maxNewTokens: args.tokens, eosTokenId: [] });
    return { provider: model.provider, states: Float32Array.from(encoding.lastHiddenState.data as Float32Array), logits0, ids: result.tokenIds, steps: result.steps ?? [] };
  } finally {
    await model.release();
  }
}

/** Greedy ids of `gpu` against `cpu`: equal, or diverging first where the CPU's top-2 margin is within `tol`. */
function compareIds(gpu: ModelRun, cpu: ModelRun, tol: number): { equal: boolean; divergedAt: number | null; margin: number | null; ok: boolean } {
  const n = Math.min(gpu.ids.length, cpu.ids.length);
  for (let i = 0; i < n; i++) {
    if (gpu.ids[i] === cpu.ids[i]) continue;
    const step = cpu.steps[i - 1]; // ids[0] is the start token; steps[k] chose ids[k + 1]
    const margin = step && step.values.length > 1 ? step.values[0]! - step.values[1]! : null;
    return { equal: false, divergedAt: i, margin, ok: margin !== null && margin <= tol };
  }
  return { equal: gpu.ids.length === cpu.ids.length, divergedAt: null, margin: null, ok: gpu.ids.length === cpu.ids.length };
}

async function parityOnModel(args: Args) {
  if (!args.image) throw new Error('parity --model needs --image PNG');
  const gpu = await runModel(args.provider, args);
  if (gpu.provider.used !== args.provider) return { exit: 3, result: { provider: gpu.provider, error: `${args.provider} did not run` } };
  const cpu = await runModel('cpu', args);
  const scale = cpu.states.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  const statesRel = maxAbsDiff(gpu.states, cpu.states) / scale;
  const logits0 = maxAbsDiff(gpu.logits0, cpu.logits0);
  const ids = compareIds(gpu, cpu, args.atol);
  const failures: string[] = [];
  if (!(statesRel <= args.atol)) failures.push(`encoder states differ from CPU by ${statesRel.toExponential(2)} (relative) > ${args.atol}`);
  if (!(logits0 <= args.atol)) failures.push(`first-step logits differ from CPU by ${logits0.toExponential(2)} > ${args.atol}`);
  if (!ids.ok) failures.push(`greedy ids diverge from CPU at token ${ids.divergedAt} where the CPU's top-2 margin is ${ids.margin}`);
  const mha = await probe(args);
  return {
    exit: failures.length > 0 ? 1 : 0,
    result: { provider: gpu.provider, model: args.model, patches: args.patches, tokens: args.tokens, atol: args.atol, encoder_states_rel_diff: statesRel, logits0_diff: logits0, ids, gpu_ids: gpu.ids, cpu_ids: cpu.ids, mha_probe: mha.result, failures },
  };
}

async function parity(args: Args) {
  if (args.model) return parityOnModel(args);
  const gpu = await runFixture(args.provider, args);
  if (gpu.provider.used !== args.provider) return { exit: 3, result: { provider: gpu.provider, error: `${args.provider} did not run` } };
  const vulkan = process.platform === 'linux' && args.provider === 'webgpu' ? surveyVulkan() : null;
  const software = vulkan !== null && hardwareVulkanDrivers(vulkan).length === 0;
  const cpu = await runFixture('cpu', args);
  const failures: string[] = [];
  for (const [image, r] of Object.entries(gpu.images)) {
    if (JSON.stringify(r.ids) !== JSON.stringify(r.refIds)) failures.push(`${image}: greedy ids differ from transformers`);
    if (JSON.stringify(r.ids) !== JSON.stringify(cpu.images[image]!.ids)) failures.push(`${image}: greedy ids differ from the CPU provider`);
    for (const k of ['encoder', 'logits0', 'top5'] as const) if (!(r[k] <= args.atol)) failures.push(`${image}: ${k} max diff ${r[k].toExponential(2)} > ${args.atol}`);
  }
  if (software && !args.allowSoftware) failures.push('WebGPU ran on a software Vulkan adapter (pass --allow-software to accept that)');
  const mha = await probe(args);
  return {
    exit: failures.length > 0 ? 1 : 0,
    result: { provider: gpu.provider, software_adapter: software, atol: args.atol, images: gpu.images, cpu: cpu.images, mha_probe: mha.result, failures },
  };
}

// ---- MultiHeadAttention on the provider, alone

function pseudoRandom(n: number, scale: number, seed: number): Float32Array {
  let s = seed;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = (s / 2147483648 - 0.5) * 2 * scale;
  }
  return a;
}

async function probe(args: Args) {
  const heads = 4;
  const d = 16;
  const width = heads * d;
  const out: Record<string, number | string> = {};
  let worst = 0;
  for (const [t, s] of [[1, 242], [16, 16], [17, 17], [32, 32], [242, 242]] as const) {
    const g = new GraphBuilder('mha');
    const q = g.input('q', 'float', [1, t, width]);
    const k = g.input('k', 'float', [1, s, width]);
    const v = g.input('v', 'float', [1, s, width]);
    g.output(g.op('MultiHeadAttention', [q, k, v], { num_heads: heads, scale: { float: 1 } }), 'y', 'float', [1, t, width]);
    const qd = pseudoRandom(t * width, 2, 3);
    const kd = pseudoRandom(s * width, 2, 5);
    const vd = pseudoRandom(s * width, 1, 7);
    const expected = new Float64Array(t * width);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < t; i++) {
        const scores = new Float64Array(s);
        let max = -Infinity;
        for (let j = 0; j < s; j++) {
          let acc = 0;
          for (let c = 0; c < d; c++) acc += qd[i * width + h * d + c]! * kd[j * width + h * d + c]!;
          scores[j] = acc;
          max = Math.max(max, acc);
        }
        let z = 0;
        for (let j = 0; j < s; j++) z += scores[j] = Math.exp(scores[j]! - max);
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < s; j++) acc += (scores[j]! / z) * vd[j * width + h * d + c]!;
          expected[i * width + h * d + c] = acc;
        }
      }
    }
    const key = `q${t}_kv${s}`;
    try {
      const session = await ort.InferenceSession.create(g.serialize(17, 'mha'), { executionProviders: [args.provider], logSeverityLevel: 3 });
      const y = (await session.run({ q: new ort.Tensor('float32', qd, [1, t, width]), k: new ort.Tensor('float32', kd, [1, s, width]), v: new ort.Tensor('float32', vd, [1, s, width]) })).y!.data as Float32Array;
      await session.release();
      out[key] = maxAbsDiff(y, expected);
      worst = Math.max(worst, out[key] as number);
    } catch (err) {
      out[key] = `failed: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  return { exit: worst <= 1e-4 ? 0 : 1, result: out };
}

// ---- end to end on a real-size checkpoint

async function time(args: Args) {
  if (!args.model || !args.image) throw new Error('time needs --model DIR and --image PNG');
  let start = performance.now();
  const model = await Pix2StructModel.load(args.model, {
    executionProvider: args.provider,
    precision: 'fp32',
    cacheDir: args.cacheDir,
    ...(args.providerDir ? { providerLibraryDir: args.providerDir } : {}),
  });
  const loadMs = performance.now() - start;
  try {
    if (model.provider.used !== args.provider) return { exit: 3, result: { provider: model.provider, error: `${args.provider} did not run` } };
    const pixels = await decodeImage(args.image);
    const runOnce = async () => {
      const t0 = performance.now();
      const image = await preprocessImage(pixels, model.checkpoint.preprocessor, { maxPatches: args.patches });
      const t1 = performance.now();
      const encoding = await model.encode(image);
      const t2 = performance.now();
      const result = await model.generate(encoding, { maxNewTokens: args.tokens, eosTokenId: [] });
      const t3 = performance.now();
      if (result.tokenIds.length !== args.tokens + 1) throw new Error(`generated ${result.tokenIds.length - 1} tokens, not ${args.tokens}`);
      return { preprocess: t1 - t0, encode: t2 - t1, decode: t3 - t2, total: t3 - t0, ids: result.tokenIds };
    };
    start = performance.now();
    const first = await runOnce();
    const runs: Awaited<ReturnType<typeof runOnce>>[] = [];
    for (let i = 0; i < args.repeats; i++) runs.push(await runOnce());
    const pick = (k: 'preprocess' | 'encode' | 'decode' | 'total') => median(runs.map((r) => r[k]));
    return {
      exit: 0,
      result: {
        provider: model.provider,
        model: args.model,
        patches: args.patches,
        tokens: args.tokens,
        repeats: args.repeats,
        load_ms: loadMs,
        first_e2e_ms: first.total,
        e2e_ms: pick('total'),
        preprocess_ms: pick('preprocess'),
        encode_ms: pick('encode'),
        decode_ms: pick('decode'),
        decode_ms_per_token: pick('decode') / args.tokens,
        token_ids: runs.at(-1)!.ids,
      },
    };
  } finally {
    await model.release();
  }
}

/** One line per result file of a gpu.sh run. */
function summary(dir: string) {
  const lines: string[] = [];
  const fmt = (x: unknown) => (typeof x === 'number' ? (Math.abs(x) < 1 ? x.toExponential(1) : x.toFixed(1)) : String(x));
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let r: any;
    try {
      r = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    } catch {
      lines.push(`${name}: unreadable`);
      continue;
    }
    const provider = r.provider?.used ? `${r.provider.used}${r.provider.skipped?.length ? ` (skipped: ${r.provider.skipped.map((s: { name: string; reason: string }) => `${s.name}: ${s.reason}`).join('; ')})` : ''}` : '';
    if (r.error) lines.push(`${name}: NOT RUN: ${r.error}; ${provider}`);
    else if (r.command === 'parity') {
      const detail = r.images
        ? Object.entries(r.images as Record<string, { encoder: number; logits0: number; top5: number }>).map(([k, v]) => `${k} enc ${fmt(v.encoder)} logits ${fmt(v.logits0)} top5 ${fmt(v.top5)}`).join(', ')
        : `states(rel) ${fmt(r.encoder_states_rel_diff)} logits ${fmt(r.logits0_diff)} ids ${r.ids?.equal ? 'equal' : `diverge at ${r.ids?.divergedAt} (margin ${r.ids?.margin})`}`;
      lines.push(`${name}: ${r.failures?.length ? `FAILED (${r.failures.join('; ')})` : 'ok'} on ${provider}, atol ${r.atol}: ${detail}; MHA probe ${JSON.stringify(r.mha_probe)}`);
    } else if (r.command === 'time') {
      lines.push(`${name}: ${provider} ${r.patches} patches ${r.tokens} tokens: e2e ${fmt(r.e2e_ms)} ms (first ${fmt(r.first_e2e_ms)}), encode ${fmt(r.encode_ms)}, decode ${fmt(r.decode_ms_per_token)} ms/token, load ${fmt(r.load_ms)}`);
    } else if (r.command === 'survey') {
      lines.push(`${name}: node ${r.node}, onnxruntime ${r.onnxruntime}; webgpu under auto: ${r.webgpu_auto}; cuda: ${r.cuda}`);
    }
  }
  return { lines };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args.command === 'summary') {
    process.stdout.write(`${summary(args.results).lines.join('\n')}\n`);
    return;
  }
  const { exit, result } =
    args.command === 'survey' ? { exit: 0, result: survey(args) } : args.command === 'parity' ? await parity(args) : args.command === 'probe' ? await probe(args) : await time(args);
  process.stdout.write(`${JSON.stringify({ command: args.command, provider: args.provider, ...result })}\n`);
  process.exitCode = exit;
}

main().catch((err) => {
  process.stderr.write(`gpu_check failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exitCode = 1;
});
