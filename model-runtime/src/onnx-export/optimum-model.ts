/**
 * A Pix2Struct folder exported to ONNX by Hugging Face optimum, run with the same generation
 * code as Pix2StructModel: same surface (encode, decoderFor, generate, provider, release),
 * but the graphs come from the folder instead of being built from safetensors weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parseGenerationConfig,
  parseModelConfig,
  parsePreprocessorConfig,
  type GenerationDefaults,
  type Pix2StructConfig,
  type PreprocessorConfig,
} from '../checkpoint/config';
import { readJsonFile } from '../checkpoint/json-file';
import { entryExists } from '../checkpoint/open-file';
import { UsageError } from '../errors';
import { generateWith, type GenerateOptions, type GenerateResult } from '../generation/generate';
import type { LoadOptions } from '../model';
import type { PreprocessedImage } from '../preprocess/patches';
import type { ProviderReport } from '../runtime/execution-providers';
import type { PrecisionReport } from '../runtime/precision';
import { floatTensor, int64Tensor, ModelSession, type HostTensor } from '../runtime/ort-session';
import { hostMaskType, inspectDecoderGraphs, type DecoderGraphs, type MaskType } from './decoder-graphs';
import { castFloatTo, widenFloat } from './float16';
import { findOptimumLayout, type DecoderChoice, type OptimumLayout, type OptimumVariant } from './layout';
import { OptimumDecoder, type OptimumImageEncoding } from './optimum-decoder';
import { fixedDim, float16Inputs, OPTIMUM_IO, requireIo } from './signature';

export type { OptimumImageEncoding } from './optimum-decoder';
export type { DecoderChoice, OptimumVariant } from './layout';

export interface OptimumLoadOptions extends LoadOptions {
  /** Which files to load: encoder_model.onnx, encoder_model_quantized.onnx or encoder_model_fp16.onnx, … */
  variant?: OptimumVariant;
  /** Merged or split decoder when the folder has both; 'auto' prefers the merged one. */
  decoder?: DecoderChoice;
}

/**
 * The JSON configs sit at the export's root; with an onnx/ subfolder, possibly only beside the
 * graphs. Read like a checkpoint's (regular files only, bounded, errors with line and column).
 */
function readJson(dirs: readonly string[], name: string, required: boolean): { file: string; value: unknown } {
  const file = dirs.map((d) => path.join(d, name)).find((f) => entryExists(f)) ?? path.join(dirs[0]!, name);
  return { file, value: readJsonFile(file, required, ' (optimum exports keep it beside the .onnx files)') };
}

interface EncoderSignature {
  /** The export's max_patches: optimum traces the encoder with a fixed patch count. Null if dynamic. */
  patches: number | null;
  maskType: MaskType;
  /** Inputs declared float16 (an fp16 export), narrowed from float32 at each call. */
  float16Inputs: ReadonlySet<string>;
}

function inspectEncoder(session: ModelSession): EncoderSignature {
  const patches = requireIo(session, 'inputs', OPTIMUM_IO.encoder.patches, ['float32', 'float16']);
  const mask = requireIo(session, 'inputs', OPTIMUM_IO.encoder.mask, ['int64', 'float32', 'float16']);
  requireIo(session, 'outputs', OPTIMUM_IO.encoder.output, ['float32', 'float16']);
  return { patches: fixedDim(patches.shape[1]), maskType: hostMaskType(mask.type), float16Inputs: float16Inputs(session) };
}

/** Each session once: a merged decoder serves as both the first-step and the cached graph. */
const distinct = (sessions: readonly ModelSession[]) => [...new Set(sessions)];

export class OptimumPix2StructModel {
  private constructor(
    readonly dir: string,
    readonly layout: OptimumLayout,
    readonly config: Pix2StructConfig,
    readonly generation: GenerationDefaults,
    readonly preprocessor: PreprocessorConfig,
    /** tokenizer.json when the export has one. */
    readonly tokenizerFile: string | null,
    /** Which execution provider runs the model, and why faster ones were skipped. */
    readonly provider: ProviderReport,
    /** An export runs in the precision it was exported in. */
    readonly precision: PrecisionReport,
    private readonly encoder: ModelSession,
    private readonly encoderSignature: EncoderSignature,
    private readonly decoders: DecoderGraphs,
  ) {}

  static async load(dir: string, options: OptimumLoadOptions = {}): Promise<OptimumPix2StructModel> {
    const root = path.resolve(dir);
    const layout = findOptimumLayout(root, options.variant ?? 'default', options.decoder ?? 'auto');
    const configDirs = [...new Set([root, layout.graphDir])];
    const modelJson = readJson(configDirs, 'config.json', true);
    const config = parseModelConfig(modelJson.value, modelJson.file);
    const generationJson = readJson(configDirs, 'generation_config.json', false);
    const generation = parseGenerationConfig(generationJson.value, config, generationJson.file);
    const preprocessorJson = readJson(configDirs, 'preprocessor_config.json', false);
    const preprocessor = parsePreprocessorConfig(preprocessorJson.value, config, preprocessorJson.file);
    const tokenizerFile = configDirs.map((d) => path.join(d, 'tokenizer.json')).find((f) => fs.existsSync(f)) ?? null;

    // The first session settles the provider; the others follow it.
    const { session: encoder, provider } = await ModelSession.openWithFallback(layout.encoder, 'optimum encoder', options);
    const opened = [encoder];
    try {
      const encoderSignature = inspectEncoder(encoder);
      let first: ModelSession;
      let cached: ModelSession;
      if (layout.decoder.kind === 'merged') {
        first = cached = await ModelSession.open(layout.decoder.merged, 'optimum merged decoder', options, provider.used);
        opened.push(first);
      } else {
        first = await ModelSession.open(layout.decoder.decoder, 'optimum decoder', options, provider.used);
        opened.push(first);
        cached = await ModelSession.open(layout.decoder.decoderWithPast, 'optimum decoder with past', options, provider.used);
        opened.push(cached);
      }
      const decoders = inspectDecoderGraphs(first, cached, config.text);
      const precision = exportPrecision(options.variant ?? 'default', path.basename(layout.encoder), options.precision);
      return new OptimumPix2StructModel(root, layout, config, generation, preprocessor, tokenizerFile, provider, precision, encoder, encoderSignature, decoders);
    } catch (err) {
      // The load error is the one to report, not a failure to release what was opened.
      await Promise.all(distinct(opened).map((s) => s.release().catch(() => undefined)));
      throw err;
    }
  }

  /** Patches the encoder was traced for (the export's max_patches), or null if it takes any count. */
  get encoderPatches(): number | null {
    return this.encoderSignature.patches;
  }

  /**
   * Runs the encoder. optimum fixes the patch count at export time; an image preprocessed
   * with fewer patches is padded with masked rows, as Pix2StructImageProcessor pads.
   */
  async encode(image: PreprocessedImage): Promise<OptimumImageEncoding> {
    const { maxPatches, flattenedPatches, attentionMask } = image;
    const width = flattenedPatches.length / maxPatches;
    const patches = this.encoderSignature.patches ?? maxPatches;
    if (maxPatches > patches) {
      throw new UsageError(`this export's encoder takes ${patches} patches (its max_patches at export time), got an image preprocessed with ${maxPatches}`);
    }
    let rows = flattenedPatches;
    let mask = attentionMask;
    if (maxPatches < patches) {
      rows = new Float32Array(patches * width);
      rows.set(flattenedPatches);
      mask = new Float32Array(patches);
      mask.set(attentionMask);
    }
    const encoderMask = floatTensor(mask, [1, patches]); // [1, P]
    const maskFeed: HostTensor =
      this.encoderSignature.maskType === 'int64' ? int64Tensor(BigInt64Array.from(mask, (v) => BigInt(Math.round(v))), [1, patches]) : encoderMask;
    const feeds: Record<string, HostTensor> = {
      [OPTIMUM_IO.encoder.patches]: floatTensor(rows, [1, patches, width]), // [1, P, 2 + ph*pw*3]
      [OPTIMUM_IO.encoder.mask]: maskFeed, // [1, P]
    };
    for (const name of this.encoderSignature.float16Inputs) feeds[name] = castFloatTo(feeds[name]!, 'float16');
    const out = await this.encoder.run(feeds);
    // An fp16 encoder's states are widened (exactly) so that every variant's encoding reads alike;
    // the decoder narrows them back, bit for bit, where its graph takes float16.
    return { lastHiddenState: widenFloat(out[OPTIMUM_IO.encoder.output]!), encoderMask }; // [1, P, H]
  }

  /** A decoder with an empty KV cache for this image (prefix scoring, custom loops). */
  decoderFor(encoding: OptimumImageEncoding): OptimumDecoder {
    return new OptimumDecoder(this.decoders, encoding);
  }

  async generate(encoding: OptimumImageEncoding, options: GenerateOptions = {}): Promise<GenerateResult> {
    return generateWith(this.decoderFor(encoding), this.generation, options);
  }

  async release(): Promise<void> {
    await Promise.all(distinct([this.encoder, this.decoders.first.session, this.decoders.cached.session]).map((s) => s.release()));
  }
}

function exportPrecision(variant: OptimumVariant, encoderFile: string, requested: LoadOptions['precision']): PrecisionReport {
  const used = variant === 'quantized' ? 'int8' : variant === 'fp16' ? 'fp16' : 'fp32';
  const ignored = requested && requested !== 'auto' && requested !== used ? `; precision ${requested} applies only to checkpoints with weights, from which this runtime builds its graphs` : '';
  return { used, reason: `ONNX export: runs as exported (${encoderFile})${ignored}` };
}
