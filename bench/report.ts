/** Prints the benchmark table: ours vs PyTorch, measured in the same run, with targets. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../model-runtime/src/checkpoint/checkpoint';

const dir = process.argv[2]!;
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Record<string, number>;
const ours = { ...read('ours-speed.json'), ...read('ours-e2e.json') };
const torch = { ...read('torch-speed.json'), ...read('torch-e2e.json') };
const ckpt = loadCheckpoint(path.join(dir, 'base-random'));
const weightBytes = ckpt.files.reduce((n, f) => n + f.fileSize, 0);

/** Multiply-adds x2 of the vision encoder over `patches` rows (padding rows are computed too). */
function encoderGflop(patches: number): number {
  const v = ckpt.config.vision;
  const inner = v.numHeads * v.dKv;
  const perLayer = 2 * patches * (4 * v.hiddenSize * inner + 3 * v.hiddenSize * v.dFf) + 2 * 2 * patches * patches * inner;
  return (2 * patches * v.patchEmbedHiddenSize * v.hiddenSize + v.numLayers * perLayer) / 1e9;
}

const rows: [string, string, string, string, string][] = [];
const fmt = (x: number, digits = 1) => x.toFixed(digits);
function add(metric: string, o: number, t: number, unit: string, target = '') {
  rows.push([metric, `${fmt(o)} ${unit}`, `${fmt(t)} ${unit}`, fmt(o / t, 2), target]);
}
add("preprocess (1024 patches, decoded image)", ours.preprocess_ms!, torch.preprocess_ms!, 'ms');
add('encoder, 1024 patches', ours.encoder_1024_ms!, torch.encoder_1024_ms!, 'ms');
add('encoder, 2048 patches', ours.encoder_2048_ms!, torch.encoder_2048_ms!, 'ms');
add('decoder per token, KV cache', ours.decoder_ms_per_token_cached!, torch.decoder_ms_per_token_cached!, 'ms', '<= 0.40');
add('decoder per token vs transformers default (no cache)', ours.decoder_ms_per_token_cached!, torch.decoder_ms_per_token_uncached!, 'ms', '<= 0.40');
add('end to end, 1024 patches, 32 new tokens', ours.e2e_ms!, torch.e2e_ms!, 'ms', '<= 0.60');
rows.push(['peak RSS / weight bytes (end to end)', fmt(ours.peak_rss_bytes! / weightBytes, 2), fmt(torch.peak_rss_bytes! / weightBytes, 2), fmt(ours.peak_rss_bytes! / torch.peak_rss_bytes!, 2), 'ours <= 1.30']);

const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...[['metric', 'ours', 'pytorch', 'ours/pytorch', 'target'], ...rows].map((r) => r[c]!.length)));
const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
console.log(`\nPix2Struct-base shape, random weights (${(weightBytes / 2 ** 20).toFixed(0)} MiB float32), ${ours.threads} threads; onnxruntime ${ours.onnxruntime} vs torch ${torch.torch}`);
console.log(line(['metric', 'ours', 'pytorch', 'ours/pytorch', 'target']));
for (const r of rows) console.log(line(r));

console.log('\nEncoder throughput (multiply-adds x2, padding rows included):');
for (const p of [1024, 2048]) {
  const gflop = encoderGflop(p);
  const oursRate = gflop / (ours[`encoder_${p}_ms`]! / 1000);
  const torchRate = gflop / (torch[`encoder_${p}_ms`]! / 1000);
  console.log(`  ${p} patches: ${fmt(gflop)} GFLOP; ours ${fmt(oursRate)} GFLOP/s = ${fmt((100 * oursRate) / ours.matmul_gflops!, 0)}% of onnxruntime's plain MatMul (${fmt(ours.matmul_gflops!)} GFLOP/s; target >= 60%); pytorch ${fmt(torchRate)} GFLOP/s (its MatMul ${fmt(torch.matmul_gflops!)})`);
}
console.log(`\nModel load: ${fmt(ours.load_ms! / 1000, 2)} s (graphs cached). Raw results: ${dir}/{ours,torch}-{speed,e2e}.json`);
