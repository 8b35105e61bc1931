import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Checkpoint, WeightFile } from '../checkpoint/checkpoint';
import { readTensorAsFloat32 } from '../checkpoint/safetensors';
import { buildCrossKvGraph, buildDecoderGraph } from './decoder-graph';
import { buildEncoderGraph } from './encoder-graph';
import { GraphBuilder, type ExternalRef } from './graph-builder';

/** Bump when the graphs change so stale caches are rebuilt. */
const GRAPH_FORMAT_VERSION = 2;
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

export function graphCacheKey(ckpt: Checkpoint): string {
  const hash = crypto.createHash('sha256');
  hash.update(JSON.stringify({ version: GRAPH_FORMAT_VERSION, opset: OPSET, config: ckpt.config }));
  for (const f of ckpt.files) hash.update(`${path.basename(f.file)}:${fileContentKey(f.file)}`);
  return hash.digest('hex').slice(0, 32);
}

/**
 * Makes the weights reachable from the cache folder without a second copy where possible:
 * float32 shards are hard-linked (onnxruntime refuses external data outside the model's
 * folder, symlinks included) and read at their own offsets; other dtypes are widened once
 * into converted.bin, one tensor at a time.
 */
class ExternalWeights {
  private readonly refs = new Map<string, ExternalRef>();

  constructor(private readonly dir: string, private readonly ckpt: Checkpoint) {}

  prepare(): void {
    const shardLocation = new Map<WeightFile, string>();
    const needsShard = (h: WeightFile) => [...this.ckpt.weights.values()].some((e) => e.file === h.file && e.dtype === 'F32');
    this.ckpt.files.forEach((header, i) => {
      if (!needsShard(header)) return;
      const location = `shard-${i}${path.extname(header.file)}`;
      linkOrCopy(header.file, path.join(this.dir, location));
      shardLocation.set(header, location);
    });
    let convertedFd: number | null = null;
    let convertedOffset = 0;
    try {
      for (const [name, entry] of this.ckpt.weights) {
        if (this.refs.has(name)) continue;
        if (entry.dtype === 'F32') {
          const header = this.ckpt.files.find((h) => h.file === entry.file)!;
          this.refs.set(name, { location: shardLocation.get(header)!, offset: entry.byteOffset, length: entry.byteLength });
          continue;
        }
        convertedFd ??= fs.openSync(path.join(this.dir, 'converted.bin'), 'w');
        const data = readTensorAsFloat32(entry);
        fs.writeSync(convertedFd, data, 0, data.byteLength);
        this.refs.set(name, { location: 'converted.bin', offset: convertedOffset, length: data.byteLength });
        convertedOffset += data.byteLength;
      }
    } finally {
      if (convertedFd !== null) fs.closeSync(convertedFd);
    }
  }

  binder(g: GraphBuilder): (name: string) => string {
    const created = new Map<string, string>();
    return (name) => {
      let tensor = created.get(name);
      if (!tensor) {
        const entry = this.ckpt.weights.get(name);
        const ref = this.refs.get(name);
        if (!entry || !ref) throw new Error(`weight ${name} was not prepared`);
        tensor = g.externalWeight(name, entry.shape, ref);
        created.set(name, tensor);
      }
      return tensor;
    };
  }
}

function linkOrCopy(source: string, target: string): void {
  const real = fs.realpathSync(source);
  try {
    fs.linkSync(real, target);
  } catch {
    // Different filesystem (EXDEV) or no hard links: a copy still keeps one copy in memory.
    fs.copyFileSync(real, target);
  }
}

/**
 * Returns the encoder, cross-K/V and decoder graphs for a checkpoint, building them into
 * `<cacheDir>/<content key>/` on first use. A folder is only used once its manifest exists,
 * so an interrupted build is redone rather than half-read.
 */
export function ensureGraphs(ckpt: Checkpoint, cacheDir = defaultCacheDir()): GraphFiles {
  const dir = path.join(cacheDir, graphCacheKey(ckpt));
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
    const weights = new ExternalWeights(staging, ckpt);
    weights.prepare();
    const build = (name: string, fill: (g: GraphBuilder, w: (n: string) => string) => void) => {
      const g = new GraphBuilder(name);
      fill(g, weights.binder(g));
      fs.writeFileSync(path.join(staging, `${name}.onnx`), g.serialize(OPSET, `pix2struct ${name} built from ${ckpt.dir}`));
    };
    build('encoder', (g, w) => buildEncoderGraph(g, ckpt.config.vision, w));
    build('cross_kv', (g, w) => buildCrossKvGraph(g, ckpt.config.text, ckpt.config.vision.hiddenSize, w));
    build('decoder', (g, w) => buildDecoderGraph(g, ckpt.config.text, w));
    fs.writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify({ version: GRAPH_FORMAT_VERSION, source: ckpt.dir, builtAt: new Date().toISOString() }, null, 2));
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
