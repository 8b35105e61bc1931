/**
 * Times this runtime (onnxruntime-node, CPU) on a bench checkpoint. Mirrors torch_bench.py
 * phase for phase and prints one JSON object:
 *   load   opens the model (building its graph cache on first use) and exits
 *   speed  preprocessing (1024 patches), encoder at 1024 and 2048 patches, decoder ms/token,
 *          onnxruntime GEMM throughput in this precision, and the CPU's model and flags
 *   e2e    preprocess + encode + generate `tokens` tokens at `patches` patches, peak RSS
 * --precision fp32|int8 is passed through to Pix2StructModel.load.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { argmax, decodeImage, Pix2StructModel, preprocessImage } from '../model-runtime/src/index';
import { GEMM_SHAPE, ortGemmGflops } from './ort_gemm';

interface Args {
  phase: 'load' | 'speed' | 'e2e';
  precision: 'fp32' | 'int8';
  model: string;
  image: string;
  threads: number;
  tokens: number;
  patches: number;
  repeats: number;
  cacheDir: string;
}

function parse(argv: string[]): Args {
  const get = (name: string, fallback?: string) => {
    const i = argv.lastIndexOf(`--${name}`); // the last one wins, as with argparse
    if (i >= 0) return argv[i + 1]!;
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  };
  const phase = argv[0] as Args['phase'];
  const precision = get('precision', 'fp32') as Args['precision'];
  if (!['load', 'speed', 'e2e'].includes(phase)) throw new Error('usage: runtime_bench.ts load|speed|e2e --model DIR --image PNG --cache-dir DIR [--precision fp32|int8]');
  if (!['fp32', 'int8'].includes(precision)) throw new Error(`--precision must be fp32 or int8, got ${precision}`);
  return {
    phase,
    precision,
    model: get('model'),
    image: get('image', ''),
    threads: Number(get('threads', '2')),
    tokens: Number(get('tokens', '32')),
    patches: Number(get('patches', '1024')),
    repeats: Number(get('repeats', '3')),
    cacheDir: get('cache-dir'),
  };
}

async function timedMs<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await fn();
  return [performance.now() - start, result];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function medianMs(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push((await timedMs(fn))[0]);
  return median(times);
}

const CPU_FLAGS = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'amx_bf16'];

/** CPU model, and the SIMD/matrix extensions that decide which kernels run (Linux only). */
function cpuInfo() {
  let flags: Record<string, boolean> | null = null;
  try {
    const line = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    const have = new Set(line.trim().split(/\s+/));
    flags = Object.fromEntries(CPU_FLAGS.map((f) => [f, have.has(f)]));
  } catch {
    // not Linux: flags stay unknown
  }
  return { model: os.cpus()[0]?.model.trim() ?? 'unknown', logical_cpus: os.cpus().length, flags };
}

/** The precision the model reports it runs in, where it reports one, so a fallback shows up. */
function precisionUsed(model: Pix2StructModel): string | null {
  const report = (model as unknown as { precision?: { used?: string } }).precision;
  return report?.used ?? null;
}

/** Multiply-adds x2 of encode(): encoder layers (padding rows included) and the cross-attention K/V. */
function encoderGflop(model: Pix2StructModel, patches: number): number {
  const { vision: v, text: t } = model.config;
  const inner = v.numHeads * v.dKv;
  const layer = 2 * patches * (4 * v.hiddenSize * inner + 3 * v.hiddenSize * v.dFf) + 2 * 2 * patches * patches * inner;
  const crossKv = t.numLayers * 2 * 2 * patches * v.hiddenSize * t.numHeads * t.dKv;
  return (2 * patches * v.patchEmbedHiddenSize * v.hiddenSize + v.numLayers * layer + crossKv) / 1e9;
}

async function speed(args: Args, model: Pix2StructModel) {
  const cfg = model.checkpoint.preprocessor;
  const out: Record<string, unknown> = {};
  // Decoded once, like the PIL image the PyTorch side hands its processor.
  const pixels = await decodeImage(args.image);
  out.preprocess_ms = await medianMs(() => preprocessImage(pixels, cfg, { maxPatches: 1024 }), args.repeats);
  for (const patches of [1024, 2048]) {
    const image = await preprocessImage(pixels, cfg, { maxPatches: patches });
    // encode() includes the decoder's cross-attention K/V projections (torch_bench.py counts them too).
    out[`encoder_${patches}_ms`] = await medianMs(() => model.encode(image), args.repeats);
  }
  const encoding = await model.encode(await preprocessImage(pixels, cfg, { maxPatches: 1024 }));
  const decode = async () => {
    const decoder = model.decoderFor(encoding);
    // The first step is untimed, as on the PyTorch side (where it fills the cross-attention cache).
    const ids = [argmax(await decoder.step([model.checkpoint.generation.decoderStartTokenId]))];
    const start = performance.now();
    for (let i = 0; i < args.tokens; i++) ids.push(argmax(await decoder.step([ids[ids.length - 1]!])));
    return { msPerToken: (performance.now() - start) / args.tokens, ids };
  };
  await decode(); // warm-up
  const runs = [];
  for (let i = 0; i < args.repeats; i++) runs.push(await decode());
  out.decoder_ms_per_token = median(runs.map((r) => r.msPerToken));
  out.decoder_tokens = runs[runs.length - 1]!.ids;
  out.encoder_gflop = { 1024: encoderGflop(model, 1024), 2048: encoderGflop(model, 2048) };
  out.gemm_gflops = await ortGemmGflops(args.precision, args.threads);
  out.gemm_shape = GEMM_SHAPE;
  out.cpu = cpuInfo();
  return out;
}

async function e2e(args: Args, model: Pix2StructModel) {
  const rssAfterLoad = process.resourceUsage().maxRSS * 1024;
  const pixels = await decodeImage(args.image); // decoded before timing, as on the PyTorch side
  const run = async () => {
    const image = await preprocessImage(pixels, model.checkpoint.preprocessor, { maxPatches: args.patches });
    const encoding = await model.encode(image);
    // eos disabled so exactly `tokens` tokens are generated, as on the PyTorch side.
    return model.generate(encoding, { maxNewTokens: args.tokens, eosTokenId: [] });
  };
  const [firstMs] = await timedMs(run);
  const runs: [number, Awaited<ReturnType<typeof run>>][] = [];
  for (let i = 0; i < args.repeats; i++) runs.push(await timedMs(run));
  const ids = runs[runs.length - 1]![1].tokenIds;
  if (ids.length !== args.tokens + 1) throw new Error(`generated ${ids.length - 1} tokens`);
  return {
    e2e_ms: median(runs.map(([ms]) => ms)),
    e2e_first_ms: firstMs,
    patches: args.patches,
    tokens: ids.slice(1),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    rss_after_load_bytes: rssAfterLoad,
  };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const [loadMs, model] = await timedMs(() =>
    Pix2StructModel.load(args.model, { precision: args.precision, threads: args.threads, cacheDir: args.cacheDir, executionProvider: 'cpu' }),
  );
  const result = args.phase === 'speed' ? await speed(args, model) : args.phase === 'e2e' ? await e2e(args, model) : {};
  await model.release();
  const weightBytes = model.checkpoint.files.reduce((n, f) => n + f.fileSize, 0);
  const meta = { precision: args.precision, precision_used: precisionUsed(model), load_ms: loadMs, weight_bytes: weightBytes, onnxruntime: ort.env.versions.common, threads: args.threads };
  process.stdout.write(`${JSON.stringify({ ...result, ...meta })}\n`);
}

main().catch((err) => {
  process.stderr.write(`runtime bench failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exitCode = 1;
});
