/** Public API of the Pix2Struct runtime: a pure Node library (no vscode). */
export { loadCheckpoint, type Checkpoint } from './checkpoint/checkpoint';
export type { GenerationDefaults, Pix2StructConfig, PreprocessorConfig } from './checkpoint/config';
export * from './errors';
export type { TopK } from './generation/logits';
export type { TokenCallback, TokenEvent } from './generation/streamer';
export { Pix2StructModel, type GenerateOptions, type GenerateResult, type ImageEncoding, type LoadOptions } from './model';
export { defaultCacheDir } from './onnx/graph-cache';
export { preprocessImage, type PreprocessedImage, type PreprocessOptions, type RgbImage } from './preprocess/index';
export { Pix2StructTokenizer } from './tokenizer';
export * from './tasks/index';
export { DEFAULT_MODEL_FOR_TASK, REGISTRY, customEntry, findRegistryEntry, type RegistryEntry, type Pix2StructTask, type OutputKind } from './registry';
export { downloadModel, findCachedModel, listCachedModels, type CachedModel, type DownloadModelOptions, type DownloadProgress } from './hub/index';
export { findElement, type FindElementOptions } from './tasks/index';
export { folderFormat, openModel, type InferenceModel } from './open-model';
export { EXECUTION_PROVIDER_CHOICES, type ExecutionProviderChoice, type ProviderReport } from './runtime/execution-providers';
