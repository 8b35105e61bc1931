/**
 * The only module that talks to onnxruntime. Sessions validate every feed against the
 * graph's declared inputs and report names, dtypes and dims when something is off.
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SessionError, SessionInputError } from '../errors';
import {
  explainProviderFailure,
  precheckProvider,
  prepareProvider,
  providerCandidates,
  type ExecutionProviderChoice,
  type ExecutionProviderName,
  type ProviderContext,
  type ProviderReport,
} from './execution-providers';

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
  /**
   * Where "Pix2Struct: Enable CUDA" installed provider libraries (installCudaProvider's root, the
   * extension's global storage folder); CUDA is tried when it holds an install for this onnxruntime.
   */
  providerLibraryDir?: string;
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

/**
 * A tensor that stays on the execution provider's device (a WebGPU buffer) between runs, so
 * caches never cross to the host. Only sessions on that device may read it, and it must be
 * disposed before the last such session is released (onnxruntime aborts the process otherwise).
 */
export interface DeviceTensor {
  type: 'device';
  elementType: 'float32';
  dims: readonly number[];
  readonly handle: ort.Tensor;
}

export type RunTensor = HostTensor | DeviceTensor;

/** Providers whose outputs can stay on their device (onnxruntime-node's 'gpu-buffer' location). */
const DEVICE_BUFFER_PROVIDERS: ReadonlySet<ExecutionProviderName> = new Set(['webgpu']);

export function keepsOutputsOnDevice(provider: ExecutionProviderName): boolean {
  return DEVICE_BUFFER_PROVIDERS.has(provider);
}

const elementType = (t: RunTensor) => (t.type === 'device' ? t.elementType : t.type);
const describe = (t: RunTensor) => `${t.type === 'device' ? `${t.elementType} on device` : t.type}[${t.dims.join(', ')}]`;

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
    readonly provider: ExecutionProviderName,
    /** Outputs that stay on the device (see DeviceTensor); empty on the CPU provider. */
    readonly deviceOutputs: ReadonlySet<string>,
  ) {}

  /**
   * Opens a graph on one provider. `deviceOutputs` name outputs to keep on the device where the
   * provider can (keepsOutputsOnDevice); elsewhere they come back to the host like the rest.
   */
  static async open(
    file: string | Uint8Array,
    label: string,
    options: SessionOptions = {},
    provider: ExecutionProviderName = 'cpu',
    deviceOutputs: readonly string[] = [],
  ): Promise<ModelSession> {
    const onDevice = keepsOutputsOnDevice(provider) ? deviceOutputs : [];
    const sessionOptions: ort.InferenceSession.SessionOptions = {
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
      ...(onDevice.length > 0 ? { preferredOutputLocation: Object.fromEntries(onDevice.map((name) => [name, 'gpu-buffer' as const])) } : {}),
    };
    try {
      // A path or the bytes of a graph built in memory: two overloads, hence the two calls.
      const session = typeof file === 'string' ? await ort.InferenceSession.create(file, sessionOptions) : await ort.InferenceSession.create(file, sessionOptions);
      return new ModelSession(label, session, provider, new Set(onDevice));
    } catch (err) {
      const what = typeof file === 'string' ? file : 'its graph';
      throw new SessionError(`${label}: onnxruntime could not load ${what} with the ${provider} provider: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Opens `file` on the best provider that works, trying them in turn and ending on CPU;
   * the report says which one runs and why each earlier one was skipped. `file` may depend on
   * the provider (graphs built for it), and is then only asked for providers worth trying.
   */
  static async openWithFallback(
    file: string | ((provider: ExecutionProviderName) => string),
    label: string,
    options: SessionOptions = {},
  ): Promise<{ session: ModelSession; provider: ProviderReport }> {
    const supported = ort.listSupportedBackends();
    const dir = bindingDir();
    const skipped: ProviderReport['skipped'] = [];
    const choice = options.executionProvider ?? 'auto';
    const ctx: ProviderContext = { explicit: choice !== 'auto', ...(options.providerLibraryDir ? { providerLibraryDir: options.providerLibraryDir } : {}) };
    for (const name of providerCandidates(choice)) {
      const reason = precheckProvider(name, supported, dir, ctx) ?? prepareProvider(name, dir, ctx);
      if (reason) {
        skipped.push({ name, reason });
        continue;
      }
      try {
        const graph = typeof file === 'string' ? file : file(name);
        return { session: await ModelSession.open(graph, label, options, name), provider: { used: name, skipped } };
      } catch (err) {
        if (name === 'cpu') throw err;
        skipped.push({ name, reason: explainProviderFailure(name, err, dir, ctx) });
      }
    }
    throw new SessionError(`${label}: no execution provider could load ${typeof file === 'string' ? file : 'its graph'}`);
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

  private validate(feeds: Record<string, RunTensor>): void {
    const problems: string[] = [];
    for (const meta of this.session.inputMetadata) {
      const feed = feeds[meta.name];
      if (!feed) {
        problems.push(`missing input "${meta.name}"`);
        continue;
      }
      if (!meta.isTensor) continue;
      if (meta.type !== elementType(feed)) problems.push(`"${meta.name}" must be ${meta.type}, got ${describe(feed)}`);
      // A CPU session would read a device buffer's handle as if it were data.
      if (feed.type === 'device' && !keepsOutputsOnDevice(this.provider)) problems.push(`"${meta.name}" is on a device, but this session runs on ${this.provider}`);
      const expected = meta.shape;
      if (expected.length !== feed.dims.length) {
        problems.push(`"${meta.name}" must have rank ${expected.length} [${expected.join(', ')}], got ${describe(feed)}`);
      } else {
        expected.forEach((d, i) => {
          if (typeof d === 'number' && d >= 0 && feed.dims[i] !== d) problems.push(`"${meta.name}" dim ${i} must be ${d}, got ${describe(feed)}`);
        });
      }
      const count = feed.dims.reduce((a, b) => a * b, 1);
      if (feed.type !== 'device' && count !== feed.data.length) problems.push(`"${meta.name}" has ${feed.data.length} values for dims [${feed.dims.join(', ')}]`);
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

  /** Runs the graph; every output comes back to the host. */
  async run(feeds: Record<string, RunTensor>): Promise<Record<string, HostTensor>> {
    if (this.deviceOutputs.size > 0) throw new Error(`${this.label}: keeps outputs on the device; use runKeepingDeviceOutputs`);
    return (await this.runKeepingDeviceOutputs(feeds)) as Record<string, HostTensor>;
  }

  /** Runs the graph; outputs named in `deviceOutputs` stay on the device, the caller disposes them. */
  async runKeepingDeviceOutputs(feeds: Record<string, RunTensor>): Promise<Record<string, RunTensor>> {
    this.validate(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = t.type === 'device' ? t.handle : new ort.Tensor(t.type, t.data, t.dims);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds);
    } catch (err) {
      throw new SessionError(`${this.label}: inference failed: ${(err as Error).message}`, { cause: err });
    }
    const out: Record<string, RunTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (t.location === 'gpu-buffer') {
        if (t.type !== 'float32') throw new SessionError(`${this.label}: device output "${name}" has unexpected type ${t.type}`);
        out[name] = { type: 'device', elementType: 'float32', dims: t.dims, handle: t };
      } else if (t.type === 'float32') out[name] = { type: 'float32', data: t.data as Float32Array, dims: t.dims };
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
