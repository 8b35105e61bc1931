import { loadCheckpoint, type Checkpoint } from './checkpoint/checkpoint';
import { UsageError } from './errors';
import { beamSearch, type BeamOptions } from './generation/beam-search';
import { greedySearch } from './generation/greedy';
import type { TopK } from './generation/logits';
import type { GenerationLimits } from './generation/stepper';
import type { TokenCallback } from './generation/streamer';
import { CROSS_KV_IO } from './onnx/decoder-graph';
import { ENCODER_IO } from './onnx/encoder-graph';
import { ensureGraphs, type GraphFiles } from './onnx/graph-cache';
import type { PreprocessedImage } from './preprocess/patches';
import { DecoderRunner, type EncodedImage } from './runtime/decoder-runner';
import type { ProviderReport } from './runtime/execution-providers';
import { floatTensor, ModelSession, type HostTensor, type SessionOptions } from './runtime/ort-session';

export interface LoadOptions extends SessionOptions {
  /** Where built ONNX graphs are cached; defaults to ~/.cache/pix2struct-vscode/graphs. */
  cacheDir?: string;
}

export interface GenerateOptions {
  maxNewTokens?: number;
  numBeams?: number;
  /** Overrides the checkpoint's eos id(s). */
  eosTokenId?: number | number[];
  lengthPenalty?: number;
  earlyStopping?: boolean | 'never';
  onToken?: TokenCallback;
  signal?: AbortSignal;
}

export interface GenerateResult {
  tokenIds: number[];
  /** Greedy only: top-5 raw logits per step. */
  steps: TopK[] | null;
  /** Beam search only. */
  sequenceScore: number | null;
  /** Wall time of the decoding loop. */
  decodeMs: number;
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
    const defaults = this.checkpoint.generation;
    const eos = options.eosTokenId ?? defaults.eosTokenIds;
    const maxNewTokens = options.maxNewTokens ?? defaults.maxNewTokens ?? defaults.maxLength - 1;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new UsageError(`max new tokens must be a positive integer, got ${maxNewTokens}`);
    const limits: GenerationLimits = {
      decoderStartTokenId: defaults.decoderStartTokenId,
      eosTokenIds: Array.isArray(eos) ? eos : [eos],
      padTokenId: defaults.padTokenId,
      maxNewTokens,
      signal: options.signal,
    };
    const numBeams = options.numBeams ?? defaults.numBeams;
    if (!Number.isInteger(numBeams) || numBeams < 1) throw new UsageError(`number of beams must be a positive integer, got ${numBeams}`);
    const decoder = this.decoderFor(encoding);
    const start = performance.now();
    if (numBeams === 1) {
      const { tokenIds, steps } = await greedySearch(decoder, limits, options.onToken);
      return { tokenIds, steps, sequenceScore: null, decodeMs: performance.now() - start };
    }
    const beamOptions: BeamOptions = {
      numBeams,
      lengthPenalty: options.lengthPenalty ?? defaults.lengthPenalty,
      earlyStopping: options.earlyStopping ?? defaults.earlyStopping,
    };
    const { tokenIds, sequenceScore } = await beamSearch(decoder, limits, beamOptions);
    tokenIds.slice(1).forEach((tokenId, step) => options.onToken?.({ step, tokenId }));
    return { tokenIds, steps: null, sequenceScore, decodeMs: performance.now() - start };
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.crossKv.release(), this.decoder.release()]);
  }
}
