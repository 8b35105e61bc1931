import { loadCheckpoint, type Checkpoint } from './checkpoint/checkpoint';
import { UsageError } from './errors';
import { generateWith, resolveLimits, type GenerateOptions, type GenerateResult } from './generation/generate';
import { greedySearchBatch } from './generation/greedy';
import { logSoftmax } from './generation/logits';
import { CROSS_KV_IO, DECODER_IO } from './onnx/decoder-graph';
import { ENCODER_IO } from './onnx/encoder-graph';
import { ensureGraphs, type GraphFiles } from './onnx/graph-cache';
import type { PreprocessedImage } from './preprocess/patches';
import { DecoderRunner, type EncodedImage } from './runtime/decoder-runner';
import { DeviceTensors } from './runtime/device-tensors';
import { DeviceRowGather } from './runtime/row-gather';
import type { GraphVariant } from './onnx/weight-store';
import { detectCpuFeatures } from './runtime/cpu-features';
import { providerCandidates, type ExecutionProviderName, type ProviderReport } from './runtime/execution-providers';
import { resolveCpuPrecision, type PrecisionChoice, type PrecisionReport } from './runtime/precision';
import { floatTensor, keepsOutputsOnDevice, ModelSession, type HostTensor, type SessionOptions } from './runtime/ort-session';

export type { GenerateOptions, GenerateResult } from './generation/generate';

export interface LoadOptions extends SessionOptions {
  /** Where built ONNX graphs are cached; defaults to ~/.cache/pix2struct-vscode/graphs. */
  cacheDir?: string;
  /** Precision of the linear layers; 'auto' (the default) picks int8 where the CPU runs it fast. */
  precision?: PrecisionChoice;
}

/** An encoded image: encoder states plus the cross-attention K/V every decoding step reuses. */
export interface ImageEncoding extends EncodedImage {
  /** Real patches only: P is the longest image's patch count; shorter rows are zero-padded. */
  lastHiddenState: HostTensor; // [B, P, H], B = 1 unless encoded as a batch
}

/** A loaded Pix2Struct checkpoint with its three onnxruntime sessions. */
export class Pix2StructModel {
  private constructor(
    readonly checkpoint: Checkpoint,
    readonly graphs: GraphFiles,
    /** Which execution provider runs the model, and why faster ones were skipped. */
    readonly provider: ProviderReport,
    /** Whether the linear layers run in fp32 or int8, and why. */
    readonly precision: PrecisionReport,
    private readonly encoder: ModelSession,
    private readonly crossKv: ModelSession,
    private readonly decoder: ModelSession,
    /** Set where the provider keeps the cross K/V and KV cache on its device (WebGPU). */
    private readonly device: DeviceRowGather | undefined,
  ) {}

  /**
   * Loads a checkpoint on the best execution provider that works. GPU providers run portable
   * fp32 graphs; the CPU provider runs the precision `options.precision` settles for this CPU.
   * int8 kernels exist on the CPU provider only, so asking for int8 skips GPU providers.
   */
  static async load(source: string | Checkpoint, options: LoadOptions = {}): Promise<Pix2StructModel> {
    // A checkpoint already loaded is not read again (a .bin's pickle would be parsed twice).
    const checkpoint = typeof source === 'string' ? loadCheckpoint(source) : source;
    const cpu = resolveCpuPrecision(options.precision ?? 'auto', detectCpuFeatures());
    const variantFor = (p: ExecutionProviderName): GraphVariant => (p === 'cpu' ? cpu.variant : { kind: 'fp32', portable: true });
    const built = new Map<string, GraphFiles>();
    const graphsFor = (p: ExecutionProviderName) => {
      const variant = variantFor(p);
      const key = JSON.stringify(variant);
      if (!built.has(key)) built.set(key, ensureGraphs(checkpoint, variant, options.cacheDir));
      return built.get(key)!;
    };
    const cpuOnly = options.precision === 'int8';
    const sessionOptions = cpuOnly ? { ...options, executionProvider: 'cpu' as const } : options;
    const opened: ModelSession[] = [];
    try {
      // The first session settles the provider; the others follow it.
      const { session: encoder, provider } = await ModelSession.openWithFallback((p) => graphsFor(p).encoder, 'encoder', sessionOptions);
      opened.push(encoder);
      if (cpuOnly) {
        const gpus = providerCandidates(options.executionProvider ?? 'auto').filter((p) => p !== 'cpu');
        provider.skipped.unshift(...gpus.map((name) => ({ name, reason: 'precision int8 runs on the CPU provider only (set precision to fp32 or auto to use it)' })));
      }
      const graphs = graphsFor(provider.used);
      const precision = provider.used === 'cpu' ? cpu.report : { used: 'fp32' as const, reason: `${provider.used} runs the fp32 graphs (int8 kernels are CPU-only)` };
      // On a GPU provider the image's cross K/V and the KV cache stay on the device between steps.
      const layers = Array.from({ length: checkpoint.config.text.numLayers }, (_, i) => i);
      const crossOutputs = layers.flatMap((i) => [CROSS_KV_IO.key(i), CROSS_KV_IO.value(i)]);
      const presentOutputs = layers.flatMap((i) => [DECODER_IO.presentKey(i), DECODER_IO.presentValue(i)]);
      const crossKv = await ModelSession.open(graphs.crossKv, 'cross-attention K/V', sessionOptions, provider.used, crossOutputs);
      opened.push(crossKv);
      const decoder = await ModelSession.open(graphs.decoder, 'decoder', sessionOptions, provider.used, presentOutputs);
      const device = keepsOutputsOnDevice(provider.used) ? new DeviceRowGather(new DeviceTensors(), sessionOptions, provider.used) : undefined;
      return new Pix2StructModel(checkpoint, graphs, provider, precision, encoder, crossKv, decoder, device);
    } catch (err) {
      await Promise.all(opened.map((s) => s.release()));
      throw err;
    }
  }

  get config() {
    return this.checkpoint.config;
  }

  async encode(image: PreprocessedImage): Promise<ImageEncoding> {
    return this.encodeBatch([image]);
  }

  /**
   * Encodes several images (all with the same max_patches) for a decoder with one row per
   * image. Padding patches never enter the encoder: images with as many real patches as each
   * other share one encoder call; otherwise each is encoded alone and the shorter ones are
   * zero-padded, with the encoder mask hiding that padding from cross-attention.
   */
  async encodeBatch(images: readonly PreprocessedImage[]): Promise<ImageEncoding> {
    const maxPatches = images[0]?.maxPatches;
    if (maxPatches === undefined || images.some((im) => im.maxPatches !== maxPatches)) {
      throw new UsageError('a batch needs at least one image and the same max patches for all');
    }
    const lengths = images.map(realPatchCount);
    const longest = Math.max(...lengths);
    const hidden = this.config.vision.hiddenSize;
    const groups = lengths.every((n) => n === longest) ? [images] : images.map((im) => [im]);
    const states = new Float32Array(images.length * longest * hidden); // [B, P, H]
    let row = 0;
    for (const group of groups) {
      const n = realPatchCount(group[0]!);
      const out = await this.encoder.run({ [ENCODER_IO.patches]: realPatches(group, n) });
      states.set(out[ENCODER_IO.output]!.data as Float32Array, row * longest * hidden); // group rows are full length or alone
      row += group.length;
    }
    const mask = new Float32Array(images.length * longest); // [B, P]
    lengths.forEach((n, b) => mask.fill(1, b * longest, b * longest + n));
    const lastHiddenState = floatTensor(states, [images.length, longest, hidden]);
    const crossKv = await this.crossKv.runKeepingDeviceOutputs({ [CROSS_KV_IO.encoderStates]: lastHiddenState });
    const encoding = { lastHiddenState, crossKv, encoderMask: floatTensor(mask, [images.length, longest]) };
    if (this.device) {
      this.device.tensors.adopt(crossKv);
      this.device.tensors.releaseWhenCollected(encoding, crossKv);
    }
    return encoding;
  }

  /** Device buffers this model holds (GPU providers; 0 on the CPU): encodings' cross K/V and live caches. */
  get deviceBuffers(): number {
    return this.device?.tensors.count ?? 0;
  }

  /** Frees an encoding's device buffers now (on the CPU provider there are none); it cannot be decoded after. */
  releaseEncoding(encoding: ImageEncoding): void {
    this.device?.tensors.disposeAll(encoding.crossKv, encoding);
  }

  /** A decoder with an empty KV cache for this image (prefix scoring, custom loops); release() frees its cache. */
  decoderFor(encoding: ImageEncoding): DecoderRunner {
    return new DecoderRunner(this.decoder, this.config.text, encoding, this.device);
  }

  async generate(encoding: ImageEncoding, options: GenerateOptions = {}): Promise<GenerateResult> {
    return this.withDecoder(encoding, (d) => generateWith(d, this.checkpoint.generation, options));
  }

  /** Greedy decoding of every image of a batch encoding at once; one id sequence per image. */
  async generateBatch(encoding: ImageEncoding, options: Pick<GenerateOptions, 'maxNewTokens' | 'eosTokenId' | 'signal'> = {}): Promise<number[][]> {
    const rows = encoding.encoderMask.dims[0]!;
    return this.withDecoder(encoding, (d) => greedySearchBatch(d, rows, resolveLimits(this.checkpoint.generation, options)));
  }

  private async withDecoder<T>(encoding: ImageEncoding, use: (decoder: DecoderRunner) => Promise<T>): Promise<T> {
    const decoder = this.decoderFor(encoding);
    try {
      return await use(decoder);
    } finally {
      decoder.release();
    }
  }

  /**
   * Log-probabilities of `tokenIds` as the first generated token, for every image of a batch
   * encoding: [rows][tokenIds.length]. One decoder step scores all candidates (RefExp).
   */
  async firstTokenLogprobs(encoding: ImageEncoding, tokenIds: readonly number[]): Promise<number[][]> {
    const rows = encoding.encoderMask.dims[0]!;
    const start = this.checkpoint.generation.decoderStartTokenId;
    const logits = await this.withDecoder(encoding, (d) => d.step(new Array<number>(rows).fill(start))); // [rows, vocab]
    const vocab = this.config.text.vocabSize;
    return Array.from({ length: rows }, (_, r) => {
      const lp = logSoftmax(logits.subarray(r * vocab, (r + 1) * vocab));
      return tokenIds.map((t) => lp[t]!);
    });
  }

  async release(): Promise<void> {
    // Device buffers go before the sessions that own their device (onnxruntime aborts otherwise).
    this.device?.tensors.close();
    await this.device?.release();
    await Promise.all([this.encoder.release(), this.crossKv.release(), this.decoder.release()]);
  }
}

/**
 * How many leading rows of an image's patches are real. The processor puts real patches first
 * and zero rows after them; a mask that is not of that form did not come from it.
 */
function realPatchCount(image: PreprocessedImage): number {
  const mask = image.attentionMask; // [maxPatches]
  let n = 0;
  while (n < mask.length && mask[n] !== 0) n++;
  for (let i = n; i < mask.length; i++) {
    if (mask[i] !== 0) throw new UsageError(`attention mask has a real patch (${i}) after padding (${n}): patches must come first`);
  }
  if (n === 0) throw new UsageError('the image has no patches');
  return n;
}

/** The first `n` patch rows of each image as one encoder input [B, n, 2 + ph*pw*3]. */
function realPatches(images: readonly PreprocessedImage[], n: number): HostTensor {
  const width = images[0]!.flattenedPatches.length / images[0]!.maxPatches;
  const data = new Float32Array(images.length * n * width); // [B, n, width]
  images.forEach((im, b) => data.set(im.flattenedPatches.subarray(0, n * width), b * n * width));
  return floatTensor(data, [images.length, n, width]);
}
