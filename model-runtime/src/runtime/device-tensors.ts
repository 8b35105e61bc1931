import type { DeviceTensor, RunTensor } from './ort-session';

/**
 * The device tensors (GPU buffers) of one model. Each is disposed when the value it holds is
 * replaced (a KV cache step), when the encoding that holds it is released or collected, or at the
 * latest when the model is released, before its sessions are: onnxruntime aborts the process
 * when a device buffer outlives its last session, so nothing may be disposed after that either.
 */
export class DeviceTensors {
  private readonly live = new Set<DeviceTensor>();
  private closed = false;
  private readonly collected = new FinalizationRegistry<DeviceTensor[]>((tensors) => tensors.forEach((t) => this.dispose(t)));

  /** Starts tracking the device tensors among `outputs`. */
  adopt<T extends Record<string, RunTensor>>(outputs: T): T {
    if (this.closed) throw new Error('the model was released');
    for (const t of Object.values(outputs)) if (t.type === 'device') this.live.add(t);
    return outputs;
  }

  /** Disposes `owner`'s device tensors once it is garbage-collected, unless released before. */
  releaseWhenCollected(owner: object, tensors: Record<string, RunTensor>): void {
    const onDevice = Object.values(tensors).filter((t): t is DeviceTensor => t.type === 'device');
    if (onDevice.length > 0) this.collected.register(owner, onDevice, owner);
  }

  dispose(t: RunTensor | undefined): void {
    if (!t || t.type !== 'device' || !this.live.delete(t) || this.closed) return;
    t.handle.dispose();
  }

  disposeAll(tensors: Record<string, RunTensor>, owner?: object): void {
    if (owner) this.collected.unregister(owner);
    Object.values(tensors).forEach((t) => this.dispose(t));
  }

  /** Before the sessions are released: everything still on the device goes now. */
  close(): void {
    for (const t of this.live) t.handle.dispose();
    this.live.clear();
    this.closed = true;
  }

  get count(): number {
    return this.live.size;
  }
}
