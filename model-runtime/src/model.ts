import { loadCheckpoint, type Checkpoint } from './checkpoint/checkpoint';
import { UsageError } from './errors';
import { generateWith, resolveLimits, type GenerateOptions, type GenerateResult } from './generation/generate';
import { greedySearchBatch } from './generation/greedy';
import { logSoftmax } from './generation/logits';
import { CROSS_KV_IO } from './onnx/decoder-graph';
import { ENCODER_IO } from './onnx/encoder-graph';
import { ensureGraphs, type GraphFiles } from './onnx/graph-cache';
import type { PreprocessedImage } from './preprocess/patches';
import { DecoderRunner, type EncodedImage } from './runtime/decoder-runner';
import type { ProviderReport } from './runtime/execution-providers';
import { floatTensor, ModelSession, type HostTensor, type SessionOptions } from './runtime/ort-session';

export type { GenerateOptions, GenerateResult } from './generation/generate';

export interface LoadOptions extends SessionOptions {
  /** Where built ONNX graphs are cached; defaults to ~/.cache/pix2struct-vscode/graphs. */
  cacheDir?: string;
}

/** An encoded image: encoder states plus the cross-attention K/V every decoding step reuses. */
export interface ImageEncoding extends EncodedImage {
  lastHiddenState: HostTensor; // [B, P, H], B = 1 unless encoded as a batch
}

/** A loaded Pix2Struct checkpoint with its three onnxruntime sessions. */
export class Pix2StructModel {
  private constructor(
    readonly checkpoint: Checkpoint,
    readonly graphs: GraphFiles,
    /** Which execution provider runs the model, and why faster ones were skipped. */
    readonly provider: ProviderReport,
    private readonly encoder: ModelSession,
    private readonly crossKv: ModelSession,
    private readonly decoder: ModelSession,
  ) {}

  static async load(dir: string, options: LoadOptions = {}): Promise<Pix2StructModel> {
    const checkpoint = loadCheckpoint(dir);
    const graphs = ensureGraphs(checkpoint, options.cacheDir);
    // The first session settles the provider; the others follow it.
    const { session: encoder, provider } = await ModelSession.openWithFallback(graphs.encoder, 'encoder', options);
    const crossKv = await ModelSession.open(graphs.crossKv, 'cross-attention K/V', options, provider.used);
    const decoder = await ModelSession.open(graphs.decoder, 'decoder', options, provider.used);
    return new Pix2StructModel(checkpoint, graphs, provider, encoder, crossKv, decoder);
  }

  get config() {
    return this.checkpoint.config;
  }

  async encode(image: PreprocessedImage): Promise<ImageEncoding> {
    return this.encodeBatch([image]);
  }

  /**
   * Encodes several images in one encoder call (batch = images.length, all with the same
   * max_patches); the result feeds a decoder with one row per image.
   */
  async encodeBatch(images: readonly PreprocessedImage[]): Promise<ImageEncoding> {
    const maxPatches = images[0]?.maxPatches;
    if (maxPatches === undefined || images.some((im) => im.maxPatches !== maxPatches)) {
      throw new UsageError('a batch needs at least one image and the same max patches for all');
    }
    const width = images[0]!.flattenedPatches.length / maxPatches;
    const patches = new Float32Array(images.length * maxPatches * width); // [B, P, 770]
    const mask = new Float32Array(images.length * maxPatches); // [B, P]
    images.forEach((im, b) => {
      patches.set(im.flattenedPatches, b * maxPatches * width);
      mask.set(im.attentionMask, b * maxPatches);
    });
    const encoderMask = floatTensor(mask, [images.length, maxPatches]);
    const enc = await this.encoder.run({
      [ENCODER_IO.patches]: floatTensor(patches, [images.length, maxPatches, width]),
      [ENCODER_IO.mask]: encoderMask,
    });
    const lastHiddenState = enc[ENCODER_IO.output]!;
    const crossKv = await this.crossKv.run({ [CROSS_KV_IO.encoderStates]: lastHiddenState });
    return { lastHiddenState, crossKv, encoderMask };
  }

  /** A decoder with an empty KV cache for this image (prefix scoring, custom loops). */
  decoderFor(encoding: ImageEncoding): DecoderRunner {
    return new DecoderRunner(this.decoder, this.config.text, encoding);
  }

  async generate(encoding: ImageEncoding, options: GenerateOptions = {}): Promise<GenerateResult> {
    return generateWith(this.decoderFor(encoding), this.checkpoint.generation, options);
  }

  /** Greedy decoding of every image of a batch encoding at once; one id sequence per image. */
  async generateBatch(encoding: ImageEncoding, options: Pick<GenerateOptions, 'maxNewTokens' | 'eosTokenId' | 'signal'> = {}): Promise<number[][]> {
    const rows = encoding.encoderMask.dims[0]!;
    return greedySearchBatch(this.decoderFor(encoding), rows, resolveLimits(this.checkpoint.generation, options));
  }

  /**
   * Log-probabilities of `tokenIds` as the first generated token, for every image of a batch
   * encoding: [rows][tokenIds.length]. One decoder step scores all candidates (RefExp).
   */
  async firstTokenLogprobs(encoding: ImageEncoding, tokenIds: readonly number[]): Promise<number[][]> {
    const rows = encoding.encoderMask.dims[0]!;
    const start = this.checkpoint.generation.decoderStartTokenId;
    const logits = await this.decoderFor(encoding).step(new Array<number>(rows).fill(start)); // [rows, vocab]
    const vocab = this.config.text.vocabSize;
    return Array.from({ length: rows }, (_, r) => {
      const lp = logSoftmax(logits.subarray(r * vocab, (r + 1) * vocab));
      return tokenIds.map((t) => lp[t]!);
    });
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.crossKv.release(), this.decoder.release()]);
  }
}
