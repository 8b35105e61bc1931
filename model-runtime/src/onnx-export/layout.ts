/**
 * Finds the graphs of a Pix2Struct folder exported by Hugging Face optimum: an encoder plus
 * either the merged decoder (with a `use_cache_branch` input) or the decoder /
 * decoder-with-past pair, in the folder itself or its `onnx/` subfolder (the layout of
 * transformers.js-style repositories), each optionally in a `_quantized` or `_fp16` variant.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError } from '../errors';

export type OptimumVariant = 'default' | 'quantized' | 'fp16';
/** Which decoder graphs to run when a folder has both: 'auto' prefers the merged one (half the weights in memory). */
export type DecoderChoice = 'auto' | 'merged' | 'split';
export const OPTIMUM_VARIANTS: readonly OptimumVariant[] = ['default', 'quantized', 'fp16'];
export const DECODER_CHOICES: readonly DecoderChoice[] = ['auto', 'merged', 'split'];
/** Where exports keep their graphs, relative to the model folder: the folder itself, then onnx/. */
export const GRAPH_SUBDIRS = ['', 'onnx'] as const;

export type DecoderFiles =
  | { kind: 'merged'; merged: string }
  | { kind: 'split'; decoder: string; decoderWithPast: string };

export interface OptimumLayout {
  /** The folder holding the graphs (the export folder or its onnx/ subfolder). */
  graphDir: string;
  encoder: string;
  decoder: DecoderFiles;
}

const SUFFIX: Record<OptimumVariant, string> = { default: '', quantized: '_quantized', fp16: '_fp16' };
const BASES = ['encoder_model', 'decoder_model_merged', 'decoder_model', 'decoder_with_past_model'] as const;
type Base = (typeof BASES)[number];

const fileName = (base: Base, variant: OptimumVariant) => `${base}${SUFFIX[variant]}.onnx`;

/** The .onnx files of a folder; a dangling link (a deleted cache blob) is no file. */
function listOnnx(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.onnx') && fs.existsSync(path.join(dir, f))).sort();
}

/** Graph file names of a resolved layout, relative to its graph folder. */
export interface GraphNames {
  encoder: string;
  decoder: DecoderFiles;
}

/**
 * The graphs of `variant` among the file names of one folder, or what is missing. Pure, so that a
 * Hub listing is judged exactly like a folder on disk.
 */
export function resolveGraphNames(present: ReadonlySet<string>, variant: OptimumVariant, choice: DecoderChoice): GraphNames | string[] {
  const file = (base: Base) => (present.has(fileName(base, variant)) ? fileName(base, variant) : null);
  const encoder = file('encoder_model');
  const merged = file('decoder_model_merged');
  const decoder = file('decoder_model');
  const withPast = file('decoder_with_past_model');
  const missing: string[] = [];
  if (!encoder) missing.push(fileName('encoder_model', variant));
  let decoderFiles: DecoderFiles | null = null;
  if (merged && choice !== 'split') decoderFiles = { kind: 'merged', merged };
  else if (decoder && withPast && choice !== 'merged') decoderFiles = { kind: 'split', decoder, decoderWithPast: withPast };
  else if (choice === 'merged') missing.push(fileName('decoder_model_merged', variant));
  else if (choice === 'split' || decoder || withPast) {
    // Half a pair: say which half, and why a lone decoder_model.onnx is not enough.
    if (!decoder) missing.push(fileName('decoder_model', variant));
    if (!withPast) {
      missing.push(
        `${fileName('decoder_with_past_model', variant)} (a decoder without a KV cache; re-export with --task image-to-text-with-past)`,
      );
    }
  } else {
    missing.push(`${fileName('decoder_model_merged', variant)}, or ${fileName('decoder_model', variant)} with ${fileName('decoder_with_past_model', variant)}`);
  }
  if (encoder && decoderFiles) return { encoder, decoder: decoderFiles };
  return missing;
}

/** Every file of a layout's decoder, in loading order. */
export function decoderFileList(decoder: DecoderFiles): string[] {
  return decoder.kind === 'merged' ? [decoder.merged] : [decoder.decoder, decoder.decoderWithPast];
}

/** The layout in one folder, or what is missing from it. */
function resolveIn(dir: string, variant: OptimumVariant, choice: DecoderChoice): OptimumLayout | string[] {
  const names = resolveGraphNames(new Set(listOnnx(dir)), variant, choice);
  if (Array.isArray(names)) return names;
  const at = (name: string) => path.join(dir, name);
  const decoder: DecoderFiles =
    names.decoder.kind === 'merged'
      ? { kind: 'merged', merged: at(names.decoder.merged) }
      : { kind: 'split', decoder: at(names.decoder.decoder), decoderWithPast: at(names.decoder.decoderWithPast) };
  return { graphDir: dir, encoder: at(names.encoder), decoder };
}

/** Variants some graph file of the folder is in, to name in errors. */
function variantsFound(files: readonly string[]): OptimumVariant[] {
  return (Object.keys(SUFFIX) as OptimumVariant[]).filter((v) => BASES.some((b) => files.includes(fileName(b, v))));
}

/**
 * Locates the graphs of `dir` for `variant`, trying `dir` then `dir/onnx`. Throws a
 * CheckpointError that lists the missing files and every .onnx file found.
 */
export function findOptimumLayout(dir: string, variant: OptimumVariant = 'default', choice: DecoderChoice = 'auto'): OptimumLayout {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new CheckpointError(root, 'model folder not found');
  if (!(variant in SUFFIX)) throw new CheckpointError(root, `unknown ONNX variant ${JSON.stringify(variant)} (expected ${Object.keys(SUFFIX).join(', ')})`);
  const candidates = GRAPH_SUBDIRS.map((sub) => path.join(root, sub));
  const problems: string[] = [];
  const found: string[] = [];
  for (const graphDir of candidates) {
    const files = listOnnx(graphDir);
    if (files.length === 0) continue;
    const result = resolveIn(graphDir, variant, choice);
    if (!Array.isArray(result)) return result;
    problems.push(`${path.relative(root, graphDir) || '.'}: missing ${result.join('; ')}`);
    found.push(...files.map((f) => path.relative(root, path.join(graphDir, f))));
  }
  if (found.length === 0) {
    throw new CheckpointError(root, 'no .onnx files here or in onnx/ (expected an optimum export: encoder_model.onnx and decoder_model_merged.onnx, or decoder_model.onnx with decoder_with_past_model.onnx)');
  }
  const variants = variantsFound(found.map((f) => path.basename(f)));
  const variantNote = variants.includes(variant) ? '' : ` No ${variant} variant here; variants found: ${variants.join(', ') || 'none'}.`;
  throw new CheckpointError(root, `incomplete optimum ONNX export (${problems.join(' | ')}). Found: ${found.join(', ')}.${variantNote}`);
}
