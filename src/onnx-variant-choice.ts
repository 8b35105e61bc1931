/**
 * What Manage Models asks about an ONNX-export checkpoint: which of its variants to run. Kept
 * free of `vscode` so the decision is tested on its own; manage-models.ts shows it.
 */
import type { OnnxVariantInfo, OptimumVariant } from '../model-runtime/src/index';

export interface VariantItem {
  label: string;
  description: string;
  detail: string;
  variant: OptimumVariant;
}

export type VariantDecision =
  /** A checkpoint with weights (or no complete export): the setting does not apply. */
  | { kind: 'none' }
  /** One variant: nothing to ask, it is the one that can run. */
  | { kind: 'only'; variant: OptimumVariant }
  | { kind: 'ask'; items: VariantItem[]; placeHolder: string };

const ABOUT: Record<OptimumVariant, string> = {
  default: 'float32 graphs, as exported',
  quantized: 'int8 weights: the smallest download, fast on CPUs, close to float32',
  fp16: 'float16 graphs: half the size of float32, for GPUs; slow on most CPUs',
};

export function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${Math.max(1, Math.round(bytes / 1e6))} MB`;
}

/**
 * The question for `variants` of checkpoint `name` given the current pix2struct.onnxVariant.
 * The current variant, where the checkpoint has it, comes first so that Enter keeps it.
 */
export function decideVariant(variants: readonly OnnxVariantInfo[], current: OptimumVariant, name: string): VariantDecision {
  if (variants.length === 0) return { kind: 'none' };
  if (variants.length === 1) return { kind: 'only', variant: variants[0]!.variant };
  const hasCurrent = variants.some((v) => v.variant === current);
  const ordered = [...variants].sort((a, b) => Number(b.variant === current) - Number(a.variant === current));
  const items = ordered.map((v) => ({
    label: v.variant,
    description: `${formatBytes(v.bytes)} · ${v.decoder} decoder${v.variant === current ? ' · current setting' : ''}`,
    detail: ABOUT[v.variant],
    variant: v.variant,
  }));
  const names = variants.map((v) => v.variant).join(', ');
  const placeHolder = hasCurrent
    ? `ONNX variant of ${name} to download and run (${names})`
    : `${name} has no ${current} ONNX variant; choose one of ${names}`;
  return { kind: 'ask', items, placeHolder };
}
