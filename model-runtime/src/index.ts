/**
 * Public API of the Pix2Struct runtime: a pure Node library (no vscode). The extension (src/) and
 * the benchmarks (bench/) import this file and nothing else of model-runtime/src, so what is
 * listed here is what they may rely on; `npm run lint` enforces that. Add an export here when a
 * caller needs it, named one by one, rather than reaching into a module.
 */

// ---- checkpoints and the model --------------------------------------------------------
export { loadCheckpoint, type Checkpoint } from './checkpoint/checkpoint';
export type { GenerationDefaults, Pix2StructConfig, PreprocessorConfig } from './checkpoint/config';
export * from './errors';
export { Pix2StructModel, type GenerateOptions, type GenerateResult, type ImageEncoding, type LoadOptions } from './model';
export { folderFormat, openModel, type InferenceModel } from './open-model';
export { Pix2StructTokenizer } from './tokenizer';
export { defaultCacheDir } from './onnx/graph-cache';

// ---- generation -----------------------------------------------------------------------
export { resolveMaxNewTokens } from './generation/budget';
export { argmax, topK, type TopK } from './generation/logits';
export type { StopReason } from './generation/stopping';
export type { TokenCallback, TokenEvent } from './generation/streamer';

// ---- images ---------------------------------------------------------------------------
export { decodeImage } from './preprocess/decode-image';
export { preprocessImage, type PreprocessedImage, type PreprocessOptions, type RgbImage } from './preprocess/index';

// ---- tasks: inputs, output parsers, Find Element ---------------------------------------
export * from './tasks/index';
export { proposeElements, type ElementProposalOptions } from './tasks/element-proposals';
export {
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_MODEL_FOR_TASK,
  REGISTRY,
  customEntry,
  findRegistryEntry,
  maxNewTokensFor,
  type OutputKind,
  type Pix2StructTask,
  type RegistryEntry,
} from './registry';

// ---- the Hugging Face cache and ONNX exports ------------------------------------------
export { downloadModel, findCachedModel, listCachedModels, type CachedModel, type DownloadModelOptions, type DownloadProgress } from './hub/index';
export { listOnnxVariants } from './hub/onnx-variants';
export { OPTIMUM_VARIANTS, type OptimumVariant } from './onnx-export/layout';
export { folderOnnxVariants, type OnnxVariantInfo } from './onnx-export/variants';

// ---- precision and execution providers ------------------------------------------------
export { PRECISION_CHOICES, relativeError, type PrecisionChoice, type PrecisionReport } from './runtime/precision';
export {
  EXECUTION_PROVIDER_CHOICES,
  precheckProvider,
  type ExecutionProviderChoice,
  type ExecutionProviderName,
  type ProviderReport,
} from './runtime/execution-providers';
export { hardwareVulkanDrivers, surveyVulkan, webgpuSkipReason } from './runtime/gpu-detection';
export { libraryFindable } from './runtime/shared-library-deps';
/** "Enable CUDA": installing onnxruntime's CUDA provider libraries and finding an install. */
export {
  cudaProviderTarget,
  findCudaProviderInstall,
  installCudaProvider,
  resolveCudaProviderPackage,
  type CudaProviderTarget,
  type InstallProgress,
  type ResolvedCudaPackage,
} from './runtime/cuda-provider-install';
/** Builds one-operator ONNX graphs: bench/gpu_check.ts checks a provider's attention kernel with it. */
export { GraphBuilder } from './onnx/graph-builder';
