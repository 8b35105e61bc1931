import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Checkpoint } from '../checkpoint/checkpoint';
import { buildCrossKvGraph, buildDecoderGraph } from './decoder-graph';
import { buildEncoderGraph } from './encoder-graph';
import { GraphBuilder } from './graph-builder';
import type { GraphWeights } from './layers';
import { WeightStore, type GraphVariant } from './weight-store';

/** Bump when the graphs change so stale caches are rebuilt. */
const GRAPH_FORMAT_VERSION = 8;
const OPSET = 20;
const SAMPLE_CHUNKS = 64;
const SAMPLE_BYTES = 64 * 1024;

export interface GraphFiles {
  dir: string;
  encoder: string;
  crossKv: string;
  decoder: string;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'pix2struct-vscode', 'graphs');
}

/**
 * Content key of a weights file. In the Hugging Face cache a snapshot file links to
 * blobs/<sha256>, which already names its content; elsewhere hash the size plus evenly
 * spaced samples (a fine-tuned checkpoint with the same shapes differs in every sample).
 */
function fileContentKey(file: string): string {
  const real = fs.realpathSync(file);
  const blob = path.basename(real);
  if (path.basename(path.dirname(real)) === 'blobs' && /^[0-9a-f]{64}$/.test(blob)) return `blob:${blob}`;
  const size = fs.statSync(real).size;
  const hash = crypto.createHash('sha256').update(String(size));
  const fd = fs.openSync(real, 'r');
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    for (let i = 0; i < SAMPLE_CHUNKS; i++) {
      const pos = Math.floor(((size - SAMPLE_BYTES) * i) / (SAMPLE_CHUNKS - 1));
      const n = fs.readSync(fd, buf, 0, SAMPLE_BYTES, Math.max(0, pos));
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return `sampled:${hash.digest('hex')}`;
}

export function graphCacheKey(ckpt: Checkpoint, variant: GraphVariant): string {
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify({ version: GRAPH_FORMAT_VERSION, opset: OPSET, config: ckpt.config, variant }));
  for (const f of ckpt.files) hash.update(`${path.basename(f.file)}:${fileContentKey(f.file)}`);
  return hash.digest('hex').slice(0, 32);
}

/**
 * Returns the encoder, cross-K/V and decoder graphs for a checkpoint in one weight encoding,
 * building them into `<cacheDir>/<content key>/` on first use (float32 and int8 builds are
 * separate folders). A folder is only used once its manifest exists, so an interrupted build
 * is redone rather than half-read.
 */
export function ensureGraphs(ckpt: Checkpoint, variant: GraphVariant, cacheDir = defaultCacheDir()): GraphFiles {
  const dir = path.join(cacheDir, graphCacheKey(ckpt, variant));
  const files: GraphFiles = {
    dir,
    encoder: path.join(dir, 'encoder.onnx'),
    crossKv: path.join(dir, 'cross_kv.onnx'),
    decoder: path.join(dir, 'decoder.onnx'),
  };
  const manifest = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifest)) return files;

  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(staging, { recursive: true });
  try {
    const weights = new WeightStore(staging, ckpt, variant);
    // CPU graphs use onnxruntime's CPU-tuned contrib ops; portable ones only what GPU providers run.
    const fusedAttention = variant.kind === 'int8' || !variant.portable;
    const keys = fusedAttention ? 'rows' : 'transposed';
    const build = (name: string, fill: (g: GraphBuilder, w: GraphWeights) => void) => {
      const g = new GraphBuilder(name);
      fill(g, weights.bind(g));
      fs.writeFileSync(path.join(staging, `${name}.onnx`), g.serialize(OPSET, `pix2struct ${name} (${JSON.stringify(variant)}) built from ${ckpt.dir}`));
    };
    try {
      build('encoder', (g, w) => buildEncoderGraph(g, ckpt.config.vision, w, fusedAttention));
      build('cross_kv', (g, w) => buildCrossKvGraph(g, ckpt.config.text, ckpt.config.vision.hiddenSize, w, keys));
      build('decoder', (g, w) => buildDecoderGraph(g, ckpt.config.text, w, fusedAttention, keys));
    } finally {
      weights.close();
    }
    const record = { version: GRAPH_FORMAT_VERSION, variant, source: ckpt.dir, builtAt: new Date().toISOString() };
    fs.writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(record, null, 2));
    try {
      fs.renameSync(staging, dir);
    } catch (err) {
      // Another process finished the same build first; its result is equivalent.
      if (!fs.existsSync(manifest)) throw err;
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return files;
}
