import * as fs from 'node:fs';
import * as path from 'node:path';
import { WEIGHT_FORMATS } from './checkpoint/weight-formats';
import type { GenerationDefaults, Pix2StructConfig, PreprocessorConfig } from './checkpoint/config';
import type { GenerateOptions, GenerateResult } from './generation/generate';
import { Pix2StructModel } from './model';
import { exportFolderFiles, hasOnnxGraphs } from './onnx-export/export-files';
import { OptimumPix2StructModel, type OptimumLoadOptions } from './onnx-export/optimum-model';
import type { PreprocessedImage } from './preprocess/patches';
import type { ProviderReport } from './runtime/execution-providers';
import type { PrecisionReport } from './runtime/precision';

/** What callers need from any model folder, whichever format backs it. */
export interface InferenceModel {
  readonly format: 'weights' | 'optimum-onnx';
  readonly config: Pix2StructConfig;
  readonly preprocessor: PreprocessorConfig;
  readonly generation: GenerationDefaults;
  readonly tokenizerFile: string | null;
  readonly provider: ProviderReport;
  readonly precision: PrecisionReport;
  /** Encodes one image and generates from it. */
  run(image: PreprocessedImage, options?: GenerateOptions): Promise<GenerateResult & { encodeMs: number }>;
  release(): Promise<void>;
}

/**
 * A Hugging Face folder with weights builds our own graphs; one with only an optimum ONNX export
 * runs that. Any .onnx graph makes it an export, so that an incomplete one or a missing variant is
 * reported as such (with the variants there are) rather than as missing weights.
 */
export function folderFormat(dir: string): InferenceModel['format'] {
  if (WEIGHT_FORMATS.some((f) => fs.existsSync(path.join(dir, f.single)) || fs.existsSync(path.join(dir, f.index)))) return 'weights';
  return hasOnnxGraphs(exportFolderFiles(dir)) ? 'optimum-onnx' : 'weights'; // loadCheckpoint then reports what is missing
}

/** Both model classes encode then generate the same way; only their encoding types differ. */
async function encodeThenGenerate<E>(
  m: {
    encode(image: PreprocessedImage): Promise<E>;
    generate(encoding: E, options?: GenerateOptions): Promise<GenerateResult>;
    releaseEncoding?(encoding: E): void;
  },
  image: PreprocessedImage,
  options: GenerateOptions | undefined,
): Promise<GenerateResult & { encodeMs: number }> {
  const start = performance.now();
  const encoding = await m.encode(image);
  const encodeMs = performance.now() - start;
  try {
    return { ...(await m.generate(encoding, options)), encodeMs };
  } finally {
    m.releaseEncoding?.(encoding); // device buffers are freed at once, not at the next collection
  }
}

/** `variant` and `decoder` pick an ONNX export's graphs; folders with weights ignore them. */
export async function openModel(dir: string, options: OptimumLoadOptions = {}): Promise<InferenceModel> {
  if (folderFormat(dir) === 'optimum-onnx') {
    const m = await OptimumPix2StructModel.load(dir, options);
    return {
      format: 'optimum-onnx',
      config: m.config,
      preprocessor: m.preprocessor,
      generation: m.generation,
      tokenizerFile: m.tokenizerFile,
      provider: m.provider,
      precision: m.precision,
      run: (image, generateOptions) => encodeThenGenerate(m, image, generateOptions),
      release: () => m.release(),
    };
  }
  const { variant: _variant, decoder: _decoder, ...loadOptions } = options;
  const m = await Pix2StructModel.load(dir, loadOptions);
  return {
    format: 'weights',
    config: m.config,
    preprocessor: m.checkpoint.preprocessor,
    generation: m.checkpoint.generation,
    tokenizerFile: m.checkpoint.tokenizerFile,
    provider: m.provider,
    precision: m.precision,
    run: (image, generateOptions) => encodeThenGenerate(m, image, generateOptions),
    release: () => m.release(),
  };
}
