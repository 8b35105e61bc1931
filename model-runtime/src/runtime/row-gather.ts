import { GraphBuilder } from '../onnx/graph-builder';
import type { DeviceCache } from './decoder-runner';
import { DeviceTensors } from './device-tensors';
import { int64Tensor, ModelSession, type RunTensor, type SessionOptions } from './ort-session';

/**
 * Beam search reorders the KV cache rows every step. When the cache lives on the device, a
 * one-op graph (Gather on axis 0) does it there, so reordering never downloads the cache.
 */
export class DeviceRowGather implements DeviceCache {
  private session: Promise<ModelSession> | null = null;

  constructor(
    readonly tensors: DeviceTensors,
    private readonly options: SessionOptions,
    private readonly provider: ModelSession['provider'],
  ) {}

  async gatherRows(t: RunTensor, order: readonly number[]): Promise<RunTensor> {
    this.session ??= ModelSession.open(gatherGraph(), 'cache row gather', this.options, this.provider, ['y']);
    const out = await (await this.session).runKeepingDeviceOutputs({ x: t, rows: int64Tensor(order, [order.length]) });
    return this.tensors.adopt(out).y!;
  }

  async release(): Promise<void> {
    await (await this.session)?.release();
  }
}

function gatherGraph(): Uint8Array {
  const g = new GraphBuilder('gather_rows');
  const x = g.input('x', 'float', ['rows', 'heads', 'length', 'dkv']); // [R, h, S, d]
  const rows = g.input('rows', 'int64', ['picked']); // [R']
  g.output(g.op('Gather', [x, rows], { axis: 0 }), 'y', 'float', ['picked', 'heads', 'length', 'dkv']); // [R', h, S, d]
  return g.serialize(20, 'rows of a KV cache, gathered on the device');
}
