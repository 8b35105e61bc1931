/**
 * Input/output names of optimum's Pix2Struct graphs, and what a loaded graph declares about
 * them. Layer counts, head counts and the encoder's patch count come from the graphs'
 * metadata, never from constants, so any size of Pix2Struct export runs.
 */
import { SessionError } from '../errors';
import type { ModelSession } from '../runtime/ort-session';

/** optimum's names (optimum/exporters/onnx/model_configs.py, Pix2StructOnnxConfig). */
export const OPTIMUM_IO = {
  encoder: { patches: 'flattened_patches', mask: 'attention_mask', output: 'last_hidden_state' },
  inputIds: 'input_ids',
  encoderStates: 'encoder_hidden_states',
  encoderMask: 'encoder_attention_mask',
  decoderMask: 'decoder_attention_mask',
  useCacheBranch: 'use_cache_branch',
  logits: 'logits',
  past: (layer: number, attention: Attention, part: KvPart) => `past_key_values.${layer}.${attention}.${part}`,
  present: (layer: number, attention: Attention, part: KvPart) => `present.${layer}.${attention}.${part}`,
} as const;

/** `decoder`: self-attention (grows each step); `encoder`: cross-attention (fixed per image). */
export type Attention = 'decoder' | 'encoder';
export type KvPart = 'key' | 'value';

const PAST = /^past_key_values\.(\d+)\.(decoder|encoder)\.(key|value)$/;
const PRESENT = /^present\.(\d+)\.(decoder|encoder)\.(key|value)$/;

type Dim = number | string;
export interface IoInfo {
  name: string;
  type: string;
  shape: readonly Dim[];
}

function describeAll(list: readonly IoInfo[]): string {
  return list.map((m) => `${m.name}: ${m.type}[${m.shape.join(', ')}]`).join('; ');
}

/** Tensor metadata of a session's inputs or outputs; non-tensor values are reported, not skipped. */
export function ioInfo(session: ModelSession, which: 'inputs' | 'outputs'): IoInfo[] {
  const list = which === 'inputs' ? session.inputMetadata : session.outputMetadata;
  return list.map((m) => {
    if (!m.isTensor) throw new SessionError(`${session.label}: ${which.slice(0, -1)} "${m.name}" is not a tensor`);
    return { name: m.name, type: m.type, shape: m.shape };
  });
}

/** Names of the inputs a graph declares as float16 (an fp16 export's), which take float32 feeds narrowed. */
export function float16Inputs(session: ModelSession): ReadonlySet<string> {
  return new Set(ioInfo(session, 'inputs').filter((m) => m.type === 'float16').map((m) => m.name));
}

/** A fixed dimension, or null for a symbolic/unknown one. */
export const fixedDim = (d: Dim | undefined): number | null => (typeof d === 'number' && d >= 0 ? d : null);

/** Fails with the graph's whole signature when a required name is absent or has another dtype. */
export function requireIo(session: ModelSession, which: 'inputs' | 'outputs', name: string, types: readonly string[]): IoInfo {
  const list = ioInfo(session, which);
  const info = list.find((m) => m.name === name);
  let problem: string | null = null;
  if (!info) problem = `has no ${which.slice(0, -1)} "${name}"`;
  else if (!types.includes(info.type)) {
    problem = `${which.slice(0, -1)} "${name}" is ${info.type}, expected ${types.join(' or ')}`;
  }
  if (problem) throw new SessionError(`${session.label}: ${problem}, so this is not an optimum Pix2Struct graph it can run (${which}: ${describeAll(list)})`);
  return info!;
}

/** The KV-cache tensors of one graph, by layer. */
export interface KvNames {
  /** Layers, counted from the names: 0..layers-1 must all be there. */
  layers: number;
  /** Cross-attention K/V appear in this list (outputs of a first step, inputs of a cached one). */
  hasEncoder: boolean;
  /** [heads, headDim] from the declared shapes [batch, heads, seq, headDim]. */
  heads: number | null;
  headDim: number | null;
}

/** Reads the past_key_values.* inputs or present.* outputs of a graph, checking every layer has all four. */
export function kvNames(session: ModelSession, which: 'inputs' | 'outputs'): KvNames {
  const pattern = which === 'inputs' ? PAST : PRESENT;
  const seen = new Map<number, Set<string>>();
  let heads: number | null = null;
  let headDim: number | null = null;
  for (const m of ioInfo(session, which)) {
    const match = pattern.exec(m.name);
    if (!match) continue;
    const layer = Number(match[1]);
    if (!seen.has(layer)) seen.set(layer, new Set());
    seen.get(layer)!.add(`${match[2]}.${match[3]}`);
    // fp16 exports keep the cache in float16; it goes from present to past as it is.
    if (m.type !== 'float32' && m.type !== 'float16') requireIo(session, which, m.name, ['float32', 'float16']);
    heads ??= fixedDim(m.shape[1]);
    headDim ??= fixedDim(m.shape[3]);
  }
  const layers = seen.size;
  const hasEncoder = [...seen.values()].some((s) => s.has('encoder.key'));
  for (let i = 0; i < layers; i++) {
    const parts = seen.get(i);
    const expected = hasEncoder ? ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'] : ['decoder.key', 'decoder.value'];
    const missing = expected.filter((p) => !parts?.has(p));
    if (missing.length > 0) {
      const prefix = which === 'inputs' ? 'past_key_values' : 'present';
      throw new SessionError(`${session.label}: layer ${i} lacks ${missing.map((p) => `${prefix}.${i}.${p}`).join(', ')} (${layers} layers named)`);
    }
  }
  return { layers, hasEncoder, heads, headDim };
}
