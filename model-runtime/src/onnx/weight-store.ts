import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Checkpoint, WeightFile } from '../checkpoint/checkpoint';
import { readTensorAsFloat32, type TensorEntry } from '../checkpoint/safetensors';
import { CheckpointError } from '../errors';
import type { ExternalRef, GraphBuilder } from './graph-builder';
import type { GraphWeights, LinearWeight, TableWeight } from './layers';
import { quantizeLinear, quantizeRows, type WeightLevels } from './quantize';

/**
 * Which graphs to build. fp32 for the CPU provider uses onnxruntime's CPU-tuned contrib ops
 * (FusedMatMul, fused attention); `portable` fp32 graphs keep to ops every GPU provider runs
 * (MatMul, explicit attention). int8 kernels exist on the CPU provider only.
 */
export type GraphVariant = { kind: 'fp32'; portable: boolean } | { kind: 'int8'; levels: WeightLevels };

/** Tensors written by the store start on this boundary (cache lines; mmap-friendly). */
const ALIGN = 64;

/**
 * The data behind a graph-cache folder's initializers. float32 graphs reference the
 * checkpoint's own float32 shards (hard-linked: onnxruntime refuses external data outside the
 * model's folder, symlinks included) and widen other dtypes into weights.bin. int8 graphs keep
 * nothing of the checkpoint: every tensor they need is written, quantised where it is a linear
 * layer or a table, into weights.bin, so a session never maps the float32 weights at all.
 * Tensors are read one at a time, so building never holds a whole model in memory.
 */
export class WeightStore {
  private readonly written = new Map<string, ExternalRef[]>();
  private readonly linkedShards = new Map<WeightFile, string>();
  private fd: number | null = null;
  private offset = 0;

  constructor(
    private readonly dir: string,
    private readonly ckpt: Checkpoint,
    readonly variant: GraphVariant,
  ) {}

  /** Initializers for one graph; each weight becomes one initializer however often it is used. */
  bind(g: GraphBuilder): GraphWeights {
    const created = new Map<string, unknown>();
    const once = <T>(key: string, make: () => T): T => {
      if (!created.has(key)) created.set(key, make());
      return created.get(key) as T;
    };
    return {
      tensor: (name) => once(`tensor:${name}`, () => this.floatInitializer(g, name)),
      linear: (name) => once(`linear:${name}`, () => this.linearInitializer(g, [name])),
      fusedLinear: (names) => once(`linear:${names.join('+')}`, () => this.linearInitializer(g, names)),
      table: (name) => once(`table:${name}`, () => this.tableInitializer(g, name)),
    };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private floatInitializer(g: GraphBuilder, name: string): string {
    const entry = this.entry(name);
    return g.externalWeight(name, entry.shape, this.floatRef(name, entry));
  }

  /**
   * One linear layer, or several over the same input as one with their outputs side by side.
   * float32 stacks the checkpoint's weights with a Concat that onnxruntime folds once at load
   * (nothing is copied on disk); int8 writes the stacked quantised matrix (scales stack too).
   */
  private linearInitializer(g: GraphBuilder, names: readonly string[]): LinearWeight {
    const entries = names.map((n) => this.entry(n));
    const inFeatures = entries[0]!.shape[1]!;
    if (entries.some((e) => e.shape[1] !== inFeatures)) throw new Error(`fused linear layers ${names.join(', ')} differ in input size`);
    if (this.variant.kind === 'fp32') {
      const parts = names.map((n, i) => g.externalWeight(n, entries[i]!.shape, this.floatRef(n, entries[i]!))); // [out_i, in] each
      return this.floatLinear(g, parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: 0 }, 'fused_weight')); // [out, in]
    }
    const outs = entries.map((e) => e.shape[0]!);
    const out = outs.reduce((a, b) => a + b, 0);
    const levels = this.variant.levels;
    const refs = this.derived(`linear:${names.join('+')}`, () => {
      const values = new Int8Array(inFeatures * out); // [in, out]
      const scales = new Float32Array(out); // [out]
      let column = 0;
      entries.forEach((e, i) => {
        const q = quantizing(e, () => quantizeLinear(readTensorAsFloat32(e), outs[i]!, inFeatures, levels)); // [in, out_i]
        for (let r = 0; r < inFeatures; r++) values.set(q.values.subarray(r * outs[i]!, (r + 1) * outs[i]!), r * out + column);
        scales.set(q.scales, column);
        column += outs[i]!;
      });
      return [values, scales];
    });
    const name = names.length === 1 ? names[0]! : `${names[0]}.fused`;
    return {
      kind: 'int8',
      weight: g.externalWeight(`${name}.int8`, [inFeatures, out], refs[0]!, 'int8'),
      scale: g.externalWeight(`${name}.scale`, [out], refs[1]!),
    };
  }

  private tableInitializer(g: GraphBuilder, name: string): TableWeight {
    const entry = this.entry(name);
    if (this.variant.kind === 'fp32') return { kind: 'float', table: g.externalWeight(name, entry.shape, this.floatRef(name, entry)) };
    const [rows, width] = entry.shape as [number, number];
    const levels = this.variant.levels;
    const refs = this.derived(`table:${name}`, () => {
      const q = quantizing(entry, () => quantizeRows(readTensorAsFloat32(entry), rows, width, levels));
      return [q.values, q.scales];
    });
    return {
      kind: 'int8',
      table: g.externalWeight(`${name}.int8`, [rows, width], refs[0]!, 'int8'),
      scale: g.externalWeight(`${name}.scale`, [rows], refs[1]!),
    };
  }

  /** A float weight [out, in]: read transposed by FusedMatMul, or transposed once at load (folded) for MatMul. */
  private floatLinear(g: GraphBuilder, weight: string): LinearWeight {
    if (this.variant.kind === 'fp32' && this.variant.portable) return { kind: 'float-in-out', weight: g.op('Transpose', [weight], { perm: [1, 0] }, 'weight_t') };
    return { kind: 'float', weight };
  }

  private entry(name: string): TensorEntry {
    const entry = this.ckpt.weights.get(name);
    if (!entry) throw new CheckpointError(this.ckpt.dir, 'the graph needs a weight the checkpoint does not have', name);
    return entry;
  }

  /** float32 data of a checkpoint tensor: in place in a linked shard when it is stored as F32. */
  private floatRef(name: string, entry: TensorEntry): ExternalRef {
    if (entry.dtype === 'F32' && this.variant.kind === 'fp32') {
      return { location: this.linkShard(entry), offset: entry.byteOffset, length: entry.byteLength };
    }
    return this.derived(`float:${name}`, () => [readTensorAsFloat32(entry)])[0]!;
  }

  private linkShard(entry: TensorEntry): string {
    const shard = this.ckpt.files.find((f) => f.file === entry.file)!;
    let location = this.linkedShards.get(shard);
    if (!location) {
      location = `shard-${this.ckpt.files.indexOf(shard)}${path.extname(shard.file)}`;
      linkOrCopy(shard.file, path.join(this.dir, location));
      this.linkedShards.set(shard, location);
    }
    return location;
  }

  /** Writes the arrays `make` returns to weights.bin once per key and remembers where. */
  private derived(key: string, make: () => ArrayBufferView[]): ExternalRef[] {
    let refs = this.written.get(key);
    if (!refs) {
      refs = make().map((data) => this.append(data));
      this.written.set(key, refs);
    }
    return refs;
  }

  private append(data: ArrayBufferView): ExternalRef {
    this.fd ??= fs.openSync(path.join(this.dir, 'weights.bin'), 'w');
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad > 0) fs.writeSync(this.fd, Buffer.alloc(pad));
    this.offset += pad;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
    const ref = { location: 'weights.bin', offset: this.offset, length: bytes.length };
    this.offset += bytes.length;
    return ref;
  }
}

/** A weight that cannot be quantised (NaN, infinity) is the checkpoint's fault: say which. */
function quantizing<T>(entry: TensorEntry, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof RangeError) throw new CheckpointError(entry.file, `cannot be quantised to int8: ${err.message}`, entry.name, { cause: err });
    throw err;
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
