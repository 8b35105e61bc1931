import type { TextConfig } from '../checkpoint/config';
import type { DecoderStepper } from '../generation/stepper';
import { DECODER_IO } from '../onnx/decoder-graph';
import type { DeviceTensors } from './device-tensors';
import { floatTensor, int64Tensor, type HostTensor, type ModelSession, type RunTensor } from './ort-session';
import { selfAttentionPositions } from './relative-position';

/** Cross-attention keys/values and mask of one encoded image, shared by every row. */
export interface EncodedImage {
  crossKv: Record<string, RunTensor>; // cross_key.i [1, h, d, P], cross_value.i [1, h, P, d]: on the device where the provider keeps them
  encoderMask: HostTensor; // [1, P]
}

/** Where the cache lives when it stays on the device: who disposes it, and how rows are regathered there. */
export interface DeviceCache {
  tensors: DeviceTensors;
  /** Rows `order` of a device tensor [rows, ...] as a new device tensor. */
  gatherRows(t: RunTensor, order: readonly number[]): Promise<RunTensor>;
}

/**
 * Drives the decoder graph with a self-attention KV cache. Rows are sequences (beams);
 * the image's cross K/V broadcast over them, so beams never copy the encoder output. On a GPU
 * provider the cache stays on the device from step to step; only logits come back.
 */
export class DecoderRunner implements DecoderStepper {
  readonly vocabSize: number;
  private rows = 0;
  private pastLength = 0;
  private pastKeys: RunTensor[] = []; // per layer [rows, h, past, d]
  private pastValues: RunTensor[] = []; // per layer [rows, h, past, d]

  constructor(
    private readonly session: ModelSession,
    private readonly cfg: TextConfig,
    private readonly image: EncodedImage,
    private readonly device?: DeviceCache,
  ) {
    this.vocabSize = cfg.vocabSize;
  }

  get cachedLength(): number {
    return this.pastLength;
  }

  /**
   * Runs `ids` ([rows][T], the same T for every row) after the cached positions and returns
   * logits for every new position: [rows, T, vocab].
   */
  async forward(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const rows = ids.length;
    const tokens = ids[0]!.length;
    if (this.pastLength === 0) this.resetCache(rows);
    if (rows !== this.rows) throw new Error(`decoder has ${this.rows} cached rows, got ${rows}`);
    const { buckets, causal } = selfAttentionPositions(this.cfg, this.pastLength, tokens);
    const total = this.pastLength + tokens;
    const feeds: Record<string, RunTensor> = {
      [DECODER_IO.inputIds]: int64Tensor(ids.flat(), [rows, tokens]),
      [DECODER_IO.encoderMask]: this.image.encoderMask,
      [DECODER_IO.positionBuckets]: int64Tensor(buckets, [tokens, total]),
      [DECODER_IO.causalBias]: floatTensor(causal, [tokens, total]),
      ...this.image.crossKv,
    };
    for (let i = 0; i < this.cfg.numLayers; i++) {
      feeds[DECODER_IO.pastKey(i)] = this.pastKeys[i]!;
      feeds[DECODER_IO.pastValue(i)] = this.pastValues[i]!;
    }
    const out = await this.session.runKeepingDeviceOutputs(feeds);
    this.device?.tensors.adopt(out);
    for (let i = 0; i < this.cfg.numLayers; i++) {
      this.replace(this.pastKeys, i, out[DECODER_IO.presentKey(i)]!);
      this.replace(this.pastValues, i, out[DECODER_IO.presentValue(i)]!);
    }
    this.pastLength = total;
    const logits = out[DECODER_IO.logits]!;
    if (logits.type !== 'float32') throw new Error(`decoder logits came back as ${logits.type}`);
    return logits.data;
  }

  async step(tokens: readonly number[], reorder?: readonly number[]): Promise<Float32Array> {
    if (reorder) await this.reorderRows(reorder);
    return this.forward(tokens.map((t) => [t])); // [rows, 1, vocab]
  }

  /** Starts over with `rows` empty sequences. */
  resetCache(rows: number): void {
    this.release();
    this.rows = rows;
    this.pastLength = 0;
    const { numHeads: h, dKv: d, numLayers } = this.cfg;
    const empty = () => floatTensor(new Float32Array(0), [rows, h, 0, d]);
    this.pastKeys = Array.from({ length: numLayers }, empty);
    this.pastValues = Array.from({ length: numLayers }, empty);
  }

  /** Frees the cache's device buffers now rather than when the model is released. */
  release(): void {
    for (const t of [...this.pastKeys, ...this.pastValues]) this.device?.tensors.dispose(t);
    this.pastKeys = [];
    this.pastValues = [];
    this.pastLength = 0;
  }

  private replace(cache: RunTensor[], layer: number, next: RunTensor): void {
    this.device?.tensors.dispose(cache[layer]);
    cache[layer] = next;
  }

  /** Row r of the new cache is row `order[r]` of the old one (beam search's beam_idx). */
  private async reorderRows(order: readonly number[]): Promise<void> {
    if (order.length !== this.rows) throw new Error(`reorder has ${order.length} rows, cache has ${this.rows}`);
    if (order.every((src, dst) => src === dst)) return;
    const gather = async (t: RunTensor): Promise<RunTensor> => {
      if (t.type === 'device') {
        if (!this.device) throw new Error('a device cache without a device to reorder it on');
        return this.device.gatherRows(t, order);
      }
      const src = t.data as Float32Array;
      const rowSize = src.length / this.rows;
      const dst = new Float32Array(src.length);
      order.forEach((from, to) => dst.set(src.subarray(from * rowSize, (from + 1) * rowSize), to * rowSize));
      return floatTensor(dst, t.dims);
    };
    for (const cache of [this.pastKeys, this.pastValues]) {
      for (let i = 0; i < cache.length; i++) this.replace(cache, i, await gather(cache[i]!));
    }
  }
}
