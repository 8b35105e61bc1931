/**
 * Typed messages between the extension host and the inference worker. One discriminated union
 * per direction; every request carries an id and gets exactly one reply, `{ ok: false, error }`
 * included, so no promise waits forever.
 */
import type { Box, ErrorInfo, ExecutionProviderSetting, OnnxVariantSetting, PrecisionSetting } from './common';
import type { DescribeResult, TaskId } from './describe-result';
import type { FindElementRequest, FindElementResult, FindProgress } from './find-element';

export interface DescribeRequest {
  kind: 'describe';
  id: number;
  task: TaskId;
  modelPath: string;
  imagePath: string;
  /** Rendered as the header above the image (VQA question, DePlot prompt). */
  question?: string;
  /** Widget captioning: drawn on the screenshot before it is encoded. */
  box?: Box;
  maxPatches?: number;
  /** The user's budget; without it the checkpoint's generation_config.json, else taskMaxNewTokens. */
  maxNewTokens?: number;
  /** The task's budget (registry), for checkpoints that set none. */
  taskMaxNewTokens?: number;
  /** Continue: the ids a run stopped by its budget returned, fed to the decoder before generating on. */
  prefixIds?: number[];
  threads?: number;
  executionProvider?: ExecutionProviderSetting;
  /** Where "Enable CUDA" installed provider libraries (SessionOptions.providerLibraryDir). */
  providerLibraryDir?: string;
  precision?: PrecisionSetting;
  graphCacheDir?: string;
  /** Which graphs of an ONNX-export folder to run (pix2struct.onnxVariant); folders with weights ignore it. */
  onnxVariant?: OnnxVariantSetting;
}

/** `shutdown`: cancel everything, release the model and let the thread end on its own. */
export type ToWorker = DescribeRequest | FindElementRequest | { kind: 'cancel'; id: number } | { kind: 'unload' } | { kind: 'shutdown' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'token'; id: number; step: number; tokenId: number; text: string | null }
  | { kind: 'reply'; id: number; ok: true; result: DescribeResult }
  | { kind: 'reply'; id: number; ok: true; result: FindElementResult }
  | FindProgress
  | { kind: 'reply'; id: number; ok: false; error: ErrorInfo };
