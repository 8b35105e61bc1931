/**
 * What optimum's decoder graphs declare, checked once at load so that decoding steps fail
 * early with the graph's signature instead of deep inside onnxruntime.
 */
import type { TextConfig } from '../checkpoint/config';
import { SessionError } from '../errors';
import type { ModelSession } from '../runtime/ort-session';
import { fixedDim, float16Inputs, ioInfo, kvNames, OPTIMUM_IO, requireIo } from './signature';

/**
 * How a mask is built on the host: optimum exports int64, other exporters float32. A float16
 * mask is built as float32 and narrowed with the graph's other float16 inputs.
 */
export type MaskType = 'int64' | 'float32';
/** Declared dtype of a mask → how the host builds it. */
export const hostMaskType = (declared: string): MaskType => (declared === 'int64' ? 'int64' : 'float32');

export interface DecoderGraph {
  session: ModelSession;
  encoderMaskType: MaskType;
  /** null when the graph has no decoder_attention_mask input. */
  decoderMaskType: MaskType | null;
  /** input_ids' declared length when fixed (1 for decoder_with_past_model.onnx), else null. */
  fixedTokens: number | null;
  /** Declared rows of encoder_hidden_states when fixed (an export traced for batch 1), else null. */
  fixedRows: number | null;
  /** Inputs declared float16 (an fp16 export): float32 feeds are narrowed, float16 ones pass as they are. */
  float16Inputs: ReadonlySet<string>;
}

export interface DecoderGraphs {
  /** Runs the first step, without a cache: decoder_model.onnx or the merged graph. */
  first: DecoderGraph;
  /** Runs every later step: decoder_with_past_model.onnx or the merged graph again. */
  cached: DecoderGraph;
  /** The merged graph takes `use_cache_branch` and a dummy past on the first step. */
  merged: boolean;
  layers: number;
  heads: number;
  headDim: number;
  vocabSize: number;
}

const MASK_TYPES = ['int64', 'float32', 'float16'] as const;
const FLOAT_TYPES = ['float32', 'float16'] as const;

function describeGraph(session: ModelSession): DecoderGraph {
  requireIo(session, 'inputs', OPTIMUM_IO.inputIds, ['int64']);
  const states = requireIo(session, 'inputs', OPTIMUM_IO.encoderStates, FLOAT_TYPES);
  const encoderMask = requireIo(session, 'inputs', OPTIMUM_IO.encoderMask, MASK_TYPES);
  requireIo(session, 'outputs', OPTIMUM_IO.logits, FLOAT_TYPES);
  const hasDecoderMask = ioInfo(session, 'inputs').some((m) => m.name === OPTIMUM_IO.decoderMask);
  const decoderMask = hasDecoderMask ? requireIo(session, 'inputs', OPTIMUM_IO.decoderMask, MASK_TYPES) : null;
  const ids = ioInfo(session, 'inputs').find((m) => m.name === OPTIMUM_IO.inputIds)!;
  return {
    session,
    encoderMaskType: hostMaskType(encoderMask.type),
    decoderMaskType: decoderMask ? hostMaskType(decoderMask.type) : null,
    fixedTokens: fixedDim(ids.shape[1]),
    fixedRows: fixedDim(states.shape[0]),
    float16Inputs: float16Inputs(session),
  };
}

/**
 * Checks a merged decoder (one session: pass it twice) or a decoder / decoder-with-past pair:
 * the first-step graph must output self- and cross-attention K/V for every layer, the cached
 * graph must take both and output the self-attention ones, with the same layer count.
 * Head sizes come from the declared shapes, or `text` where those are symbolic.
 */
export function inspectDecoderGraphs(first: ModelSession, cached: ModelSession, text: TextConfig): DecoderGraphs {
  const merged = first === cached;
  if (merged) requireIo(first, 'inputs', OPTIMUM_IO.useCacheBranch, ['bool']);
  const produced = kvNames(first, 'outputs');
  const consumed = kvNames(cached, 'inputs');
  const updated = kvNames(cached, 'outputs');
  if (produced.layers === 0 || !produced.hasEncoder) {
    throw new SessionError(`${first.label}: outputs no present.{i}.decoder/encoder.{key,value} tensors; was it exported with past (image-to-text-with-past)?`);
  }
  if (!consumed.hasEncoder || consumed.layers !== produced.layers || updated.layers !== produced.layers) {
    throw new SessionError(
      `${cached.label}: takes ${consumed.layers} layers of past_key_values${consumed.hasEncoder ? '' : ' without cross-attention K/V'} and outputs ${updated.layers}, but ${first.label} outputs ${produced.layers}`,
    );
  }
  const heads = produced.heads ?? consumed.heads ?? text.numHeads;
  const headDim = produced.headDim ?? consumed.headDim ?? text.dKv;
  const logits = ioInfo(first, 'outputs').find((m) => m.name === OPTIMUM_IO.logits)!;
  return {
    first: describeGraph(first),
    cached: describeGraph(cached),
    merged,
    layers: produced.layers,
    heads,
    headDim,
    vocabSize: fixedDim(logits.shape[2]) ?? text.vocabSize,
  };
}
