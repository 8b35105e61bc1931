/**
 * Times this runtime (onnxruntime-node, CPU, float32) on the bench checkpoint. Mirrors
 * torch_bench.py phase for phase and prints one JSON object.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { argmax } from '../model-runtime/src/generation/logits';
import { Pix2StructModel } from '../model-runtime/src/model';
import { GraphBuilder } from '../model-runtime/src/onnx/graph-builder';
import { decodeImage } from '../model-runtime/src/preprocess/decode-image';
import { preprocessImage } from '../model-runtime/src/preprocess/index';

interface Args {
  phase: 'speed' | 'e2e';
  model: string;
  image: string;
  threads: number;
  tokens: number;
  repeats: number;
  cacheDir: string;
}

function parse(argv: string[]): Args {
  const get = (name: string, fallback?: string) => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1]!;
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  };
  return {
    phase: argv[0] as Args['phase'],
    model: get('model'),
    image: get('image'),
    threads: Number(get('threads', '2')),
    tokens: Number(get('tokens', '32')),
    repeats: Number(get('repeats', '2')),
    cacheDir: get('cache-dir'),
  };
}

async function median(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Plain [2048, 768] x [768, 768] MatMul in onnxruntime: the throughput ceiling for the encoder. */
async function matmulGflops(threads: number): Promise<number> {
  const [m, k, n] = [2048, 768, 768];
  const g = new GraphBuilder('matmul');
  const a = g.input('a', 'float', [m, k]);
  const b = g.input('b', 'float', [k, n]);
  g.output(g.op('MatMul', [a, b]), 'c', 'float', [m, n]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-matmul-')), 'matmul.onnx');
  fs.writeFileSync(file, g.serialize(20, 'plain matmul'));
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, executionProviders: ['cpu'] });
  const feeds = {
    a: new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), [m, k]),
    b: new ort.Tensor('float32', Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)), [k, n]),
  };
  await session.run(feeds);
  const ms = await median(() => session.run(feeds), 20);
  await session.release();
  return (2 * m * k * n) / (ms / 1000) / 1e9;
}

async function speed(args: Args, model: Pix2StructModel) {
  const cfg = model.checkpoint.preprocessor;
  const out: Record<string, number> = {};
  // Decoded once, like the PIL image the PyTorch side hands its processor.
  const pixels = await decodeImage(args.image);
  out.preprocess_ms = await median(() => preprocessImage(pixels, cfg, { maxPatches: 1024 }), 3);
  for (const patches of [1024, 2048]) {
    const image = await preprocessImage(args.image, cfg, { maxPatches: patches });
    await model.encode(image); // warm-up
    out[`encoder_${patches}_ms`] = await median(() => model.encode(image), args.repeats);
  }
  const encoding = await model.encode(await preprocessImage(args.image, cfg, { maxPatches: 1024 }));
  const decoder = model.decoderFor(encoding);
  let token = model.checkpoint.generation.decoderStartTokenId;
  const start = performance.now();
  for (let i = 0; i < args.tokens; i++) {
    token = argmax(await decoder.step([token]));
  }
  out.decoder_ms_per_token_cached = (performance.now() - start) / args.tokens;
  out.matmul_gflops = await matmulGflops(args.threads);
  return out;
}

async function e2e(args: Args, model: Pix2StructModel) {
  const rssAfterLoad = process.resourceUsage().maxRSS * 1024;
  const start = performance.now();
  const image = await preprocessImage(args.image, model.checkpoint.preprocessor, { maxPatches: 1024 });
  const encoding = await model.encode(image);
  // eos disabled so exactly `tokens` tokens are generated, as on the PyTorch side.
  const result = await model.generate(encoding, { maxNewTokens: args.tokens, eosTokenId: [] });
  const elapsed = performance.now() - start;
  if (result.tokenIds.length !== args.tokens + 1) throw new Error(`generated ${result.tokenIds.length - 1} tokens`);
  return { e2e_ms: elapsed, peak_rss_bytes: process.resourceUsage().maxRSS * 1024, rss_after_load_bytes: rssAfterLoad };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const loadStart = performance.now();
  const model = await Pix2StructModel.load(args.model, { threads: args.threads, cacheDir: args.cacheDir });
  const loadMs = performance.now() - loadStart;
  const result = args.phase === 'speed' ? await speed(args, model) : await e2e(args, model);
  await model.release();
  process.stdout.write(`${JSON.stringify({ ...result, load_ms: loadMs, onnxruntime: ort.env.versions.common, threads: args.threads })}\n`);
}

main().catch((err) => {
  process.stderr.write(`runtime bench failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exitCode = 1;
});
