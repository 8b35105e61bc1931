/**
 * The only module that talks to onnxruntime. Sessions validate every feed against the
 * graph's declared inputs and report names, dtypes and dims when something is off.
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SessionError, SessionInputError } from '../errors';
import { precheckProvider, providerCandidates, type ExecutionProviderChoice, type ExecutionProviderName, type ProviderReport } from './execution-providers';

export type HostTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  /** IEEE half precision as raw 16-bit patterns (what onnxruntime-node takes for 'float16'). */
  | { type: 'float16'; data: Uint16Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'bool'; data: Uint8Array; dims: readonly number[] };

export interface SessionOptions {
  /** Intra-op threads; 0 or undefined lets onnxruntime pick (one per physical core). */
  threads?: number;
  /** 'auto' tries the platform's accelerators first; anything that fails falls back to CPU. */
  executionProvider?: ExecutionProviderChoice;
}

/** Folder of the native binding, where optional provider libraries are installed. */
function bindingDir(): string | null {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** float16 data as bit patterns: a Uint16Array as is, a Float16Array (where the runtime has one) reinterpreted. */
function halfBits(data: unknown): Uint16Array {
  if (data instanceof Uint16Array) return data;
  const view = data as ArrayBufferView & { length: number };
  return new Uint16Array(view.buffer, view.byteOffset, view.length);
}

const describe = (t: HostTensor) => `${t.type}[${t.dims.join(', ')}]`;

export function floatTensor(data: Float32Array, dims: readonly number[]): HostTensor {
  return { type: 'float32', data, dims };
}

export function boolTensor(values: readonly boolean[], dims: readonly number[]): HostTensor {
  return { type: 'bool', data: Uint8Array.from(values, (v) => (v ? 1 : 0)), dims };
}

export function int64Tensor(values: ArrayLike<number> | BigInt64Array, dims: readonly number[]): HostTensor {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { type: 'int64', data, dims };
}

export class ModelSession {
  private constructor(
    readonly label: string,
    private readonly session: ort.InferenceSession,
  ) {}

  static async open(file: string, label: string, options: SessionOptions = {}, provider: ExecutionProviderName = 'cpu'): Promise<ModelSession> {
    try {
      const session = await ort.InferenceSession.create(file, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: options.threads ?? 0,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        // The arena keeps its high-water mark and rounds growth up; without it peak memory
        // stays near the weights' size, at no measurable cost in speed here.
        enableCpuMemArena: false,
        // Failed provider attempts are reported through ProviderReport, not printed.
        logSeverityLevel: provider === 'cpu' ? 2 : 4,
      });
      return new ModelSession(label, session);
    } catch (err) {
      throw new SessionError(`${label}: onnxruntime could not load ${file} with the ${provider} provider: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Opens `file` on the best provider that works, trying them in turn and ending on CPU;
   * the report says which one runs and why each earlier one was skipped.
   */
  static async openWithFallback(file: string, label: string, options: SessionOptions = {}): Promise<{ session: ModelSession; provider: ProviderReport }> {
    const supported = ort.listSupportedBackends();
    const dir = bindingDir();
    const skipped: ProviderReport['skipped'] = [];
    for (const name of providerCandidates(options.executionProvider ?? 'auto')) {
      const reason = precheckProvider(name, supported, dir);
      if (reason) {
        skipped.push({ name, reason });
        continue;
      }
      try {
        return { session: await ModelSession.open(file, label, options, name), provider: { used: name, skipped } };
      } catch (err) {
        if (name === 'cpu') throw err;
        skipped.push({ name, reason: ((err as Error).message.split('\n')[0] ?? '').slice(0, 300) });
      }
    }
    throw new SessionError(`${label}: no execution provider could load ${file}`);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Declared inputs (name, dtype, fixed or symbolic dims), for callers that adapt to a graph they did not build. */
  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.session.inputMetadata;
  }

  /** Declared outputs, as `inputMetadata`. */
  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.session.outputMetadata;
  }

  private validate(feeds: Record<string, HostTensor>): void {
    const problems: string[] = [];
    for (const meta of this.session.inputMetadata) {
      const feed = feeds[meta.name];
      if (!feed) {
        problems.push(`missing input "${meta.name}"`);
        continue;
      }
      if (!meta.isTensor) continue;
      if (meta.type !== feed.type) problems.push(`"${meta.name}" must be ${meta.type}, got ${describe(feed)}`);
      const expected = meta.shape;
      if (expected.length !== feed.dims.length) {
        problems.push(`"${meta.name}" must have rank ${expected.length} [${expected.join(', ')}], got ${describe(feed)}`);
      } else {
        expected.forEach((d, i) => {
          if (typeof d === 'number' && d >= 0 && feed.dims[i] !== d) problems.push(`"${meta.name}" dim ${i} must be ${d}, got ${describe(feed)}`);
        });
      }
      const count = feed.dims.reduce((a, b) => a * b, 1);
      if (count !== feed.data.length) problems.push(`"${meta.name}" has ${feed.data.length} values for dims [${feed.dims.join(', ')}]`);
    }
    const known = new Set(this.session.inputNames);
    for (const name of Object.keys(feeds)) if (!known.has(name)) problems.push(`unknown input "${name}"`);
    if (problems.length > 0) {
      const declared = this.session.inputMetadata
        .map((m) => (m.isTensor ? `${m.name}: ${m.type}[${m.shape.join(', ')}]` : m.name))
        .join('; ');
      throw new SessionInputError(`${this.label}: ${problems.join('; ')} (inputs: ${declared})`);
    }
  }

  async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    this.validate(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds);
    } catch (err) {
      throw new SessionError(`${this.label}: inference failed: ${(err as Error).message}`, { cause: err });
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (t.type === 'float32') out[name] = { type: 'float32', data: t.data as Float32Array, dims: t.dims };
      else if (t.type === 'float16') out[name] = { type: 'float16', data: halfBits(t.data), dims: t.dims };
      else if (t.type === 'int64') out[name] = { type: 'int64', data: t.data as BigInt64Array, dims: t.dims };
      else if (t.type === 'bool') out[name] = { type: 'bool', data: t.data as Uint8Array, dims: t.dims };
      else throw new SessionError(`${this.label}: output "${name}" has unexpected type ${t.type}`);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
