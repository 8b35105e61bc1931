import type { TextConfig } from '../checkpoint/config';
import type { DecoderStepper } from '../generation/stepper';
import { DECODER_IO } from '../onnx/decoder-graph';
import { floatTensor, int64Tensor, type HostTensor, type ModelSession } from './ort-session';
import { selfAttentionPositions } from './relative-position';

/** Cross-attention keys/values and mask of one encoded image, shared by every row. */
export interface EncodedImage {
  crossKv: Record<string, HostTensor>; // cross_key.i [1, h, d, P], cross_value.i [1, h, P, d]
  encoderMask: HostTensor; // [1, P]
}

/**
 * Drives the decoder graph with a self-attention KV cache. Rows are sequences (beams);
 * the image's cross K/V broadcast over them, so beams never copy the encoder output.
 */
export class DecoderRunner implements DecoderStepper {
  readonly vocabSize: number;
  private rows = 0;
  private pastLength = 0;
  private pastKeys: Float32Array[] = []; // per layer [rows, h, past, d]
  private pastValues: Float32Array[] = []; // per layer [rows, h, past, d]

  constructor(
    private readonly session: ModelSession,
    private readonly cfg: TextConfig,
    private readonly image: EncodedImage,
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
    const { numHeads: h, dKv: d, numLayers } = this.cfg;
    const { buckets, causal } = selfAttentionPositions(this.cfg, this.pastLength, tokens);
    const total = this.pastLength + tokens;
    const feeds: Record<string, HostTensor> = {
      [DECODER_IO.inputIds]: int64Tensor(ids.flat(), [rows, tokens]),
      [DECODER_IO.encoderMask]: this.image.encoderMask,
      [DECODER_IO.positionBuckets]: int64Tensor(buckets, [tokens, total]),
      [DECODER_IO.causalBias]: floatTensor(causal, [tokens, total]),
      ...this.image.crossKv,
    };
    for (let i = 0; i < numLayers; i++) {
      feeds[DECODER_IO.pastKey(i)] = floatTensor(this.pastKeys[i]!, [rows, h, this.pastLength, d]);
      feeds[DECODER_IO.pastValue(i)] = floatTensor(this.pastValues[i]!, [rows, h, this.pastLength, d]);
    }
    const out = await this.session.run(feeds);
    for (let i = 0; i < numLayers; i++) {
      this.pastKeys[i] = out[DECODER_IO.presentKey(i)]!.data as Float32Array;
      this.pastValues[i] = out[DECODER_IO.presentValue(i)]!.data as Float32Array;
    }
    this.pastLength = total;
    return out[DECODER_IO.logits]!.data as Float32Array;
  }

  async step(tokens: readonly number[], reorder?: readonly number[]): Promise<Float32Array> {
    if (reorder) this.reorderRows(reorder);
    const logits = await this.forward(tokens.map((t) => [t])); // [rows, 1, vocab]
    return logits;
  }

  /** Starts over with `rows` empty sequences. */
  resetCache(rows: number): void {
    this.rows = rows;
    this.pastLength = 0;
    this.pastKeys = Array.from({ length: this.cfg.numLayers }, () => new Float32Array(0));
    this.pastValues = Array.from({ length: this.cfg.numLayers }, () => new Float32Array(0));
  }

  /** Row r of the new cache is row `order[r]` of the old one (beam search's beam_idx). */
  private reorderRows(order: readonly number[]): void {
    if (order.length !== this.rows) throw new Error(`reorder has ${order.length} rows, cache has ${this.rows}`);
    if (order.every((src, dst) => src === dst)) return;
    const rowSize = this.cfg.numHeads * this.cfg.dKv * this.pastLength;
    const gather = (src: Float32Array) => {
      const dst = new Float32Array(src.length);
      order.forEach((from, to) => dst.set(src.subarray(from * rowSize, (from + 1) * rowSize), to * rowSize));
      return dst;
    };
    this.pastKeys = this.pastKeys.map(gather);
    this.pastValues = this.pastValues.map(gather);
  }
}
