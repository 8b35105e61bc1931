/**
 * Greedy/beam decoding steps on optimum's Pix2Struct decoder graphs, with their KV cache.
 *
 * First step: decoder_model.onnx, or the merged graph with use_cache_branch=false and a
 * dummy past (optimum's own runtime passes zeros of length 1; that branch never reads them).
 * It outputs the self-attention K/V and, once, the cross-attention K/V of the image.
 * Later steps: decoder_with_past_model.onnx, or the merged graph with use_cache_branch=true,
 * fed past_key_values.{i}.decoder.* from the previous present.{i}.decoder.* and
 * past_key_values.{i}.encoder.* from the first step. The merged graph's cached branch still
 * outputs present.{i}.encoder.*, but optimum leaves them unset there (its IO binding sizes
 * them [0, h, 1, d]), so only the first step's are kept.
 */
import { SessionInputError } from '../errors';
import type { DecoderStepper } from '../generation/stepper';
import { boolTensor, floatTensor, int64Tensor, type HostTensor } from '../runtime/ort-session';
import type { DecoderGraph, DecoderGraphs, MaskType } from './decoder-graphs';
import { castFloatTo, widenFloat } from './float16';
import { OPTIMUM_IO, type KvPart } from './signature';

/** An image encoded by optimum's encoder_model.onnx. */
export interface OptimumImageEncoding {
  lastHiddenState: HostTensor; // float32 [1, P, H], P = the encoder graph's patch count
  encoderMask: HostTensor; // float32 [1, P], 1 for real patches
}

const PARTS: readonly KvPart[] = ['key', 'value'];

/** Copies a [1, ...] tensor into [rows, ...]; every row the same image. */
function repeatRows(t: HostTensor, rows: number): HostTensor {
  if (rows === 1) return t;
  const dims = [rows, ...t.dims.slice(1)];
  if (t.type === 'float32') {
    const data = new Float32Array(t.data.length * rows);
    for (let r = 0; r < rows; r++) data.set(t.data, r * t.data.length);
    return floatTensor(data, dims);
  }
  if (t.type === 'int64') {
    const data = new BigInt64Array(t.data.length * rows);
    for (let r = 0; r < rows; r++) data.set(t.data, r * t.data.length);
    return int64Tensor(data, dims);
  }
  throw new Error(`cannot repeat a ${t.type} tensor`);
}

/** A 0/1 float mask in the dtype the graph declares. */
function maskAs(mask: HostTensor, type: MaskType): HostTensor {
  if (mask.type === type) return mask;
  if (type === 'int64') return int64Tensor(BigInt64Array.from(mask.data as Float32Array, (v) => BigInt(Math.round(v))), mask.dims);
  return floatTensor(Float32Array.from(mask.data as BigInt64Array, Number), mask.dims);
}

function ones(type: MaskType, dims: readonly number[]): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return type === 'int64' ? int64Tensor(new BigInt64Array(n).fill(1n), dims) : floatTensor(new Float32Array(n).fill(1), dims);
}

/** Row r of the result is row order[r] of `t` ([rows, ...]), a float32 or float16 cache tensor. */
function gatherRows(t: HostTensor, order: readonly number[]): HostTensor {
  if (t.type !== 'float32' && t.type !== 'float16') throw new Error(`cannot reorder a ${t.type} tensor`);
  const rowSize = t.data.length / t.dims[0]!;
  const dims = [order.length, ...t.dims.slice(1)];
  if (t.type === 'float16') {
    const src = t.data;
    const dst = new Uint16Array(order.length * rowSize);
    order.forEach((from, to) => dst.set(src.subarray(from * rowSize, (from + 1) * rowSize), to * rowSize));
    return { type: 'float16', data: dst, dims };
  }
  const src = t.data;
  const dst = new Float32Array(order.length * rowSize);
  order.forEach((from, to) => dst.set(src.subarray(from * rowSize, (from + 1) * rowSize), to * rowSize));
  return floatTensor(dst, dims);
}

/** Narrows the float32 feeds a graph declares float16 (an fp16 export); float16 ones, like the cache, pass as they are. */
function castFeeds(graph: DecoderGraph, feeds: Record<string, HostTensor>): Record<string, HostTensor> {
  for (const name of graph.float16Inputs) if (feeds[name]) feeds[name] = castFloatTo(feeds[name]!, 'float16');
  return feeds;
}

/** Logits as float32 for generation, widened (exactly) from an fp16 graph's. */
const logitsOf = (out: Record<string, HostTensor>) => widenFloat(out[OPTIMUM_IO.logits]!).data as Float32Array;

export class OptimumDecoder implements DecoderStepper {
  readonly vocabSize: number;
  private rows = 0;
  private pastLength = 0;
  /** past_key_values.{i}.decoder.{key,value} → [rows, heads, past, headDim] */
  private selfKv: Record<string, HostTensor> = {};
  /** past_key_values.{i}.encoder.{key,value} → [rows, heads, P, headDim], from the first step */
  private crossKv: Record<string, HostTensor> = {};
  /** Encoder states and mask per graph, repeated to the row count. */
  private imageFeeds = new Map<DecoderGraph, Record<string, HostTensor>>();

  constructor(
    private readonly graphs: DecoderGraphs,
    private readonly image: OptimumImageEncoding,
  ) {
    this.vocabSize = graphs.vocabSize;
  }

  get cachedLength(): number {
    return this.pastLength;
  }

  async step(tokens: readonly number[], reorder?: readonly number[]): Promise<Float32Array> {
    if (reorder) this.reorderRows(reorder);
    return this.forward(tokens.map((t) => [t])); // [rows, 1, vocab]
  }

  /**
   * Runs `ids` ([rows][T], the same T for every row) after the cached positions and returns
   * logits for every new position: [rows, T, vocab].
   */
  async forward(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const rows = ids.length;
    const tokens = ids[0]?.length ?? 0;
    if (rows === 0 || tokens === 0 || ids.some((r) => r.length !== tokens)) {
      throw new SessionInputError(`decoder input must be rows of equal, non-zero length, got [${ids.map((r) => r.length).join(', ')}]`);
    }
    if (this.pastLength === 0) return this.runFirst(ids);
    if (rows !== this.rows) throw new SessionInputError(`decoder has ${this.rows} cached rows, got ${rows}`);
    const fixed = this.graphs.cached.fixedTokens;
    if (fixed === null || fixed === tokens) return this.runCached(ids);
    // decoder_with_past_model.onnx takes one token per call: run the columns in turn.
    const logits = new Float32Array(rows * tokens * this.vocabSize); // [rows, T, vocab]
    for (let t = 0; t < tokens; t++) {
      const column = await this.runCached(ids.map((r) => [r[t]!])); // [rows, 1, vocab]
      for (let r = 0; r < rows; r++) {
        logits.set(column.subarray(r * this.vocabSize, (r + 1) * this.vocabSize), (r * tokens + t) * this.vocabSize);
      }
    }
    return logits;
  }

  /** Starts over: the next call runs the first-step graph again. */
  resetCache(): void {
    this.rows = 0;
    this.pastLength = 0;
    this.selfKv = {};
    this.crossKv = {};
  }

  private async runFirst(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const { first, merged, layers, heads, headDim } = this.graphs;
    const rows = ids.length;
    const tokens = ids[0]!.length;
    if (rows !== this.rows) this.imageFeeds.clear();
    this.rows = rows;
    const feeds = this.commonFeeds(first, ids, tokens);
    if (merged) {
      feeds[OPTIMUM_IO.useCacheBranch] = boolTensor([false], [1]);
      const dummy = floatTensor(new Float32Array(rows * heads * headDim), [rows, heads, 1, headDim]);
      for (let i = 0; i < layers; i++) {
        for (const part of PARTS) {
          feeds[OPTIMUM_IO.past(i, 'decoder', part)] = dummy;
          feeds[OPTIMUM_IO.past(i, 'encoder', part)] = dummy;
        }
      }
    }
    const out = await first.session.run(castFeeds(first, feeds));
    for (let i = 0; i < layers; i++) {
      for (const part of PARTS) {
        this.selfKv[OPTIMUM_IO.past(i, 'decoder', part)] = out[OPTIMUM_IO.present(i, 'decoder', part)]!;
        this.crossKv[OPTIMUM_IO.past(i, 'encoder', part)] = out[OPTIMUM_IO.present(i, 'encoder', part)]!;
      }
    }
    this.pastLength = tokens;
    return logitsOf(out);
  }

  private async runCached(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const { cached, merged, layers } = this.graphs;
    const tokens = ids[0]!.length;
    const feeds = { ...this.commonFeeds(cached, ids, this.pastLength + tokens), ...this.selfKv, ...this.crossKv };
    if (merged) feeds[OPTIMUM_IO.useCacheBranch] = boolTensor([true], [1]);
    const out = await cached.session.run(castFeeds(cached, feeds));
    for (let i = 0; i < layers; i++) {
      for (const part of PARTS) this.selfKv[OPTIMUM_IO.past(i, 'decoder', part)] = out[OPTIMUM_IO.present(i, 'decoder', part)]!;
    }
    this.pastLength += tokens;
    return logitsOf(out);
  }

  /** input_ids, the image and the decoder mask (all ones: no padding inside a row). */
  private commonFeeds(graph: DecoderGraph, ids: readonly (readonly number[])[], maskLength: number): Record<string, HostTensor> {
    const rows = ids.length;
    const feeds: Record<string, HostTensor> = {
      [OPTIMUM_IO.inputIds]: int64Tensor(ids.flat(), [rows, ids[0]!.length]), // [rows, T]
      ...this.imageFor(graph),
    };
    if (graph.decoderMaskType) feeds[OPTIMUM_IO.decoderMask] = ones(graph.decoderMaskType, [rows, maskLength]); // [rows, past + T]
    return feeds;
  }

  /**
   * encoder_hidden_states [rows, P, H] and encoder_attention_mask [rows, P]. The rows are
   * copies: transformers' Pix2Struct attention reshapes keys with the query's batch size, so
   * optimum's graphs cannot broadcast one image over several beams. A graph traced for a
   * fixed batch gets that batch as is.
   */
  private imageFor(graph: DecoderGraph): Record<string, HostTensor> {
    let feeds = this.imageFeeds.get(graph);
    if (!feeds) {
      const rows = graph.fixedRows ?? this.rows;
      // Narrowed here once per graph, so an fp16 graph's encoder states are not converted every step.
      feeds = castFeeds(graph, {
        [OPTIMUM_IO.encoderStates]: repeatRows(this.image.lastHiddenState, rows),
        [OPTIMUM_IO.encoderMask]: repeatRows(maskAs(this.image.encoderMask, graph.encoderMaskType), rows),
      });
      this.imageFeeds.set(graph, feeds);
    }
    return feeds;
  }

  /**
   * Row r of the new cache is row `order[r]` of the old one (beam search's beam_idx). Only the
   * self-attention K/V move: every row's cross-attention K/V come from the same image.
   */
  private reorderRows(order: readonly number[]): void {
    if (order.length !== this.rows) throw new SessionInputError(`reorder has ${order.length} rows, cache has ${this.rows}`);
    if (order.every((src, dst) => src === dst)) return;
    for (const [name, t] of Object.entries(this.selfKv)) this.selfKv[name] = gatherRows(t, order);
  }
}
