/**
 * The small types every message protocol shares: settings the worker is told, what it reports
 * back and the box shape. Imports nothing, so each protocol file can build on it without cycles;
 * the webview bundles import this folder, so it never imports vscode or anything outside it.
 */

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export type PrecisionSetting = 'auto' | 'fp32' | 'int8';
export type OnnxVariantSetting = 'default' | 'quantized' | 'fp16';

/** The precision the model ran in (fp32, int8; fp16 for some ONNX exports) and why. */
export interface PrecisionInfo {
  used: string;
  reason: string;
}

export interface ErrorInfo {
  message: string;
  /** The runtime's error code (IMAGE_INVALID, CHECKPOINT_INVALID, ABORTED, ...) when known. */
  code?: string;
}

/** A rectangle in image pixels, x1/y1 exclusive. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
