import { loadCheckpoint, type Checkpoint } from './checkpoint/checkpoint';
import { generateWith, type GenerateOptions, type GenerateResult } from './generation/generate';
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
  lastHiddenState: HostTensor; // [1, P, H]
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
    const { maxPatches, flattenedPatches, attentionMask } = image;
    const width = flattenedPatches.length / maxPatches;
    const encoderMask = floatTensor(attentionMask, [1, maxPatches]);
    const enc = await this.encoder.run({
      [ENCODER_IO.patches]: floatTensor(flattenedPatches, [1, maxPatches, width]),
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

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.crossKv.release(), this.decoder.release()]);
  }
}
