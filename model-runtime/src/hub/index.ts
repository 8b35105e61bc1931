/**
 * Hugging Face Hub downloads into the standard cache (~/.cache/huggingface/hub), interchangeable
 * with Python's huggingface_hub: either one reuses the files the other downloaded.
 */
export { downloadModel, type DownloadModelOptions, type DownloadProgress } from './download-model';
export { findCachedModel, type FindCachedOptions } from './find-cached';
export { listCachedModels, type CachedModel, type CachedRevision } from './list-cached';
export { listOnnxVariants, type ListOnnxVariantsOptions, type OnnxVariantInfo } from './onnx-variants';
export type { OnnxChoice } from './onnx-files';
export { HubError, type HubErrorReason } from '../errors';
