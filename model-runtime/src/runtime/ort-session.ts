/**
 * The only module that talks to onnxruntime. Sessions validate every feed against the
 * graph's declared inputs and report names, dtypes and dims when something is off.
 */
import * as ort from 'onnxruntime-node';
import { SessionError, SessionInputError } from '../errors';

export type HostTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] };

export interface SessionOptions {
  /** Intra-op threads; 0 or undefined lets onnxruntime pick (one per physical core). */
  threads?: number;
}

const describe = (t: HostTensor) => `${t.type}[${t.dims.join(', ')}]`;

export function floatTensor(data: Float32Array, dims: readonly number[]): HostTensor {
  return { type: 'float32', data, dims };
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

  static async open(file: string, label: string, options: SessionOptions = {}): Promise<ModelSession> {
    try {
      const session = await ort.InferenceSession.create(file, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: options.threads ?? 0,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        enableCpuMemArena: process.env.P2S_ARENA === '1',
      });
      return new ModelSession(label, session);
    } catch (err) {
      throw new SessionError(`${label}: onnxruntime could not load ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
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
      else if (t.type === 'int64') out[name] = { type: 'int64', data: t.data as BigInt64Array, dims: t.dims };
      else throw new SessionError(`${this.label}: output "${name}" has unexpected type ${t.type}`);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
