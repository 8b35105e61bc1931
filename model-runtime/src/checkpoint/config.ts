import { ConfigError } from '../errors';
import { TEXT_ALIASES, aliasedValue, checkLookalikes } from './config-aliases';
import { CONFIG_LIMITS, type ConfigLimit } from './config-limits';

/** Vision encoder hyper-parameters (camelCase view of HF `vision_config`). */
export interface VisionConfig {
  hiddenSize: number;
  patchEmbedHiddenSize: number;
  dFf: number;
  dKv: number;
  numLayers: number;
  numHeads: number;
  layerNormEps: number;
  denseActFn: string;
  /** Rows/cols of the learned position tables (`seq_len`). */
  seqLen: number;
}

/** Text decoder hyper-parameters (camelCase view of HF `text_config`). */
export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  dFf: number;
  dKv: number;
  numLayers: number;
  numHeads: number;
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  layerNormEpsilon: number;
  denseActFn: string;
  tieWordEmbeddings: boolean;
}

export interface Pix2StructConfig {
  vision: VisionConfig;
  text: TextConfig;
  isVqa: boolean;
  decoderStartTokenId: number;
  padTokenId: number;
  eosTokenId: number;
}

export interface GenerationDefaults {
  decoderStartTokenId: number;
  eosTokenIds: number[];
  padTokenId: number;
  maxNewTokens: number | null;
  maxLength: number;
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
}

export interface PreprocessorConfig {
  maxPatches: number;
  patchHeight: number;
  patchWidth: number;
  isVqa: boolean;
  doNormalize: boolean;
  doConvertRgb: boolean;
}

type Json = Record<string, unknown>;

// Defaults of transformers' Pix2StructVisionConfig / Pix2StructTextConfig: the
// short config.json that save_pretrained writes omits every key equal to them.
const VISION_DEFAULTS = {
  hidden_size: 768,
  patch_embed_hidden_size: 768,
  d_ff: 2048,
  d_kv: 64,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  dense_act_fn: 'gelu_new',
  layer_norm_eps: 1e-6,
  seq_len: 4096,
};

const TEXT_DEFAULTS = {
  vocab_size: 50244,
  hidden_size: 768,
  d_kv: 64,
  d_ff: 2048,
  num_layers: 12,
  num_heads: 12,
  relative_attention_num_buckets: 32,
  relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6,
  dense_act_fn: 'gelu_new',
  decoder_start_token_id: 0,
  pad_token_id: 0,
  eos_token_id: 1,
  tie_word_embeddings: false,
};

const SUPPORTED_ACTIVATIONS = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu']);

/** Where values are read from, for messages: the file and, inside config.json, the sub-config. */
interface Where {
  file: string;
  section?: 'vision_config' | 'text_config';
}

const keyPath = (at: Where, key: string) => (at.section ? `${at.section}.${key}` : key);
const label = (at: Where, key: string) => `${at.section ? `${at.section} ` : ''}"${key}"`;

function checked<T>(at: Where, key: string, value: unknown, fallback: T, check: (v: unknown) => boolean, what: string): T {
  if (value === undefined || value === null) return fallback;
  if (!check(value)) throw new ConfigError(at.file, `${label(at, key)} must be ${what}, got ${JSON.stringify(value)}`, keyPath(at, key));
  return value as T;
}

function field<T>(at: Where, obj: Json, key: string, fallback: T, check: (v: unknown) => boolean, what: string): T {
  return checked(at, key, obj[key], fallback, check, what);
}

const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const isNonNegativeInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const isPositiveNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isBool = (v: unknown) => typeof v === 'boolean';
const isString = (v: unknown) => typeof v === 'string';

/** Refuses a value above its bound before anything is sized from it (see config-limits.ts). */
function bounded(at: Where, key: string, n: number, limit: ConfigLimit): number {
  const max = CONFIG_LIMITS[limit];
  if (n > max) {
    throw new ConfigError(at.file, `${label(at, key)} is ${n}, more than ${max}, the most this runtime accepts (no Pix2Struct checkpoint comes near it: a corrupt or mistyped value?)`, keyPath(at, key));
  }
  return n;
}

/** A positive integer size within its bound, read through the key's transformers aliases. */
function size(at: Where, obj: Json, key: string, fallback: number, limit: ConfigLimit, aliases: readonly string[] = []): number {
  const { key: used, value } = aliases.length ? aliasedValue(at.file, at.section ?? '', obj, key, aliases) : { key, value: obj[key] };
  return bounded(at, used, checked(at, used, value, fallback, isPositiveInt, 'a positive integer'), limit);
}

/** A token id, or the first of a list of them; no id can reach the largest vocabulary accepted. */
function firstId(at: Where, obj: Json, key: string, fallback: number): number {
  const v = obj[key];
  const id = Array.isArray(v) && v.length > 0 && v.every(isNonNegativeInt) ? (v[0] as number) : field(at, obj, key, fallback, isNonNegativeInt, 'a token id');
  return bounded(at, key, id, 'vocab');
}

/** Token ids the decoder embeds must index its embedding table. */
function embeddable(at: Where, key: string, id: number, vocabSize: number): number {
  if (id >= vocabSize) throw new ConfigError(at.file, `${label(at, key)} is ${id}, outside the ${vocabSize}-token vocabulary (text_config "vocab_size")`, keyPath(at, key));
  return id;
}

function activation(at: Where, obj: Json, fallback: string): string {
  const act = field(at, obj, 'dense_act_fn', fallback, isString, 'a string');
  if (!SUPPORTED_ACTIVATIONS.has(act)) {
    throw new ConfigError(at.file, `${label(at, 'dense_act_fn')} ${JSON.stringify(act)} is not supported (expected one of ${[...SUPPORTED_ACTIVATIONS].join(', ')})`, keyPath(at, 'dense_act_fn'));
  }
  return act;
}

/** heads × d_kv is the attention width the projections are sized from; bounded like the sizes themselves. */
function checkAttentionWidth(at: Where, heads: [string, number], dKv: number): void {
  if (heads[1] * dKv > CONFIG_LIMITS.attentionWidth) {
    throw new ConfigError(at.file, `${label(at, heads[0])} × "d_kv" is ${heads[1]} × ${dKv} = ${heads[1] * dKv}, more than ${CONFIG_LIMITS.attentionWidth}, the widest attention this runtime accepts`, keyPath(at, heads[0]));
  }
}

function parseVision(file: string, v: Json): VisionConfig {
  const at: Where = { file, section: 'vision_config' };
  const vision: VisionConfig = {
    hiddenSize: size(at, v, 'hidden_size', VISION_DEFAULTS.hidden_size, 'hidden'),
    patchEmbedHiddenSize: size(at, v, 'patch_embed_hidden_size', VISION_DEFAULTS.patch_embed_hidden_size, 'patchPixels'),
    dFf: size(at, v, 'd_ff', VISION_DEFAULTS.d_ff, 'dFf'),
    dKv: size(at, v, 'd_kv', VISION_DEFAULTS.d_kv, 'dKv'),
    numLayers: size(at, v, 'num_hidden_layers', VISION_DEFAULTS.num_hidden_layers, 'layers'),
    numHeads: size(at, v, 'num_attention_heads', VISION_DEFAULTS.num_attention_heads, 'heads'),
    layerNormEps: field(at, v, 'layer_norm_eps', VISION_DEFAULTS.layer_norm_eps, isPositiveNumber, 'a positive number'),
    denseActFn: activation(at, v, VISION_DEFAULTS.dense_act_fn),
    seqLen: size(at, v, 'seq_len', VISION_DEFAULTS.seq_len, 'seqLen'),
  };
  checkAttentionWidth(at, ['num_attention_heads', vision.numHeads], vision.dKv);
  checkLookalikes(file, 'vision_config', v, { num_hidden_layers: vision.numLayers, num_attention_heads: vision.numHeads, hidden_size: vision.hiddenSize });
  return vision;
}

function parseText(file: string, t: Json, tieTop: boolean | undefined): TextConfig {
  const at: Where = { file, section: 'text_config' };
  const tieText = field<boolean | undefined>(at, t, 'tie_word_embeddings', undefined, isBool, 'a boolean');
  const text: TextConfig = {
    vocabSize: size(at, t, 'vocab_size', TEXT_DEFAULTS.vocab_size, 'vocab'),
    hiddenSize: size(at, t, 'hidden_size', TEXT_DEFAULTS.hidden_size, 'hidden'),
    dFf: size(at, t, 'd_ff', TEXT_DEFAULTS.d_ff, 'dFf'),
    dKv: size(at, t, 'd_kv', TEXT_DEFAULTS.d_kv, 'dKv'),
    numLayers: size(at, t, 'num_layers', TEXT_DEFAULTS.num_layers, 'layers', TEXT_ALIASES.num_layers),
    numHeads: size(at, t, 'num_heads', TEXT_DEFAULTS.num_heads, 'heads', TEXT_ALIASES.num_heads),
    relativeAttentionNumBuckets: size(at, t, 'relative_attention_num_buckets', TEXT_DEFAULTS.relative_attention_num_buckets, 'relativeBuckets'),
    relativeAttentionMaxDistance: size(at, t, 'relative_attention_max_distance', TEXT_DEFAULTS.relative_attention_max_distance, 'relativeMaxDistance'),
    layerNormEpsilon: field(at, t, 'layer_norm_epsilon', TEXT_DEFAULTS.layer_norm_epsilon, isPositiveNumber, 'a positive number'),
    denseActFn: activation(at, t, TEXT_DEFAULTS.dense_act_fn),
    // transformers 4.38 ties when either config says so (the model's top-level flag, or the
    // text model's own); 5.x only reads the top-level one, which save_pretrained copies down.
    tieWordEmbeddings: (tieTop ?? TEXT_DEFAULTS.tie_word_embeddings) || (tieText ?? false),
  };
  if (text.relativeAttentionNumBuckets < 2) {
    throw new ConfigError(file, 'text_config "relative_attention_num_buckets" must be at least 2', 'text_config.relative_attention_num_buckets');
  }
  checkAttentionWidth(at, ['num_heads', text.numHeads], text.dKv);
  checkLookalikes(file, 'text_config', t, { hidden_size: text.hiddenSize });
  return text;
}

/** Parses an HF Pix2Struct `config.json`, filling every default the short form leaves out. */
export function parseModelConfig(raw: unknown, file = 'config.json'): Pix2StructConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, 'expected a JSON object');
  const top = raw as Json;
  if (top.model_type !== undefined && top.model_type !== 'pix2struct') {
    throw new ConfigError(file, `"model_type" is ${JSON.stringify(top.model_type)}, expected "pix2struct"`, 'model_type');
  }
  const sub = (key: string): Json => {
    const v = top[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(file, `"${key}" must be an object`, key);
    return v as Json;
  };
  const at: Where = { file };
  const t = sub('text_config');
  const vision = parseVision(file, sub('vision_config'));
  const text = parseText(file, t, field<boolean | undefined>(at, top, 'tie_word_embeddings', undefined, isBool, 'a boolean'));
  const inText: Where = { file, section: 'text_config' };
  // A top-level id wins over text_config's, which wins over transformers' default.
  const id = (key: 'decoder_start_token_id' | 'pad_token_id' | 'eos_token_id') =>
    top[key] !== undefined && top[key] !== null ? { at, id: firstId(at, top, key, 0) } : { at: inText, id: firstId(inText, t, key, TEXT_DEFAULTS[key]) };
  const start = id('decoder_start_token_id');
  const pad = id('pad_token_id');
  return {
    vision,
    text,
    isVqa: field(at, top, 'is_vqa', false, isBool, 'a boolean'),
    decoderStartTokenId: embeddable(start.at, 'decoder_start_token_id', start.id, text.vocabSize),
    padTokenId: embeddable(pad.at, 'pad_token_id', pad.id, text.vocabSize),
    eosTokenId: id('eos_token_id').id,
  };
}

/** Parses `generation_config.json` (optional), falling back to the model config. */
export function parseGenerationConfig(raw: unknown, model: Pix2StructConfig, file = 'generation_config.json'): GenerationDefaults {
  const g: Json = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Json) : {};
  if (raw !== undefined && raw !== null && g !== raw) throw new ConfigError(file, 'expected a JSON object');
  const at: Where = { file };
  const eos = g.eos_token_id;
  let eosTokenIds: number[];
  if (eos === undefined || eos === null) eosTokenIds = [model.eosTokenId];
  else if (Array.isArray(eos) && eos.every(isNonNegativeInt)) eosTokenIds = (eos as number[]).map((id) => bounded(at, 'eos_token_id', id, 'vocab'));
  else if (isNonNegativeInt(eos)) eosTokenIds = [bounded(at, 'eos_token_id', eos as number, 'vocab')];
  else throw new ConfigError(file, `"eos_token_id" must be a token id or a list of them, got ${JSON.stringify(eos)}`, 'eos_token_id');
  const early = g.early_stopping;
  if (early !== undefined && early !== null && early !== true && early !== false && early !== 'never') {
    throw new ConfigError(file, `"early_stopping" must be true, false or "never", got ${JSON.stringify(early)}`, 'early_stopping');
  }
  const maxNew = g.max_new_tokens;
  const vocab = model.text.vocabSize;
  return {
    decoderStartTokenId: embeddable(at, 'decoder_start_token_id', firstId(at, g, 'decoder_start_token_id', model.decoderStartTokenId), vocab),
    eosTokenIds,
    padTokenId: embeddable(at, 'pad_token_id', firstId(at, g, 'pad_token_id', model.padTokenId), vocab),
    maxNewTokens: maxNew === undefined || maxNew === null ? null : size(at, g, 'max_new_tokens', 1, 'newTokens'),
    maxLength: size(at, g, 'max_length', 20, 'newTokens'),
    numBeams: size(at, g, 'num_beams', 1, 'beams'),
    lengthPenalty: field(at, g, 'length_penalty', 1.0, (x) => typeof x === 'number' && Number.isFinite(x), 'a number'),
    earlyStopping: (early ?? false) as boolean | 'never',
  };
}

/** Parses `preprocessor_config.json` (optional). */
export function parsePreprocessorConfig(raw: unknown, model: Pix2StructConfig, file = 'preprocessor_config.json'): PreprocessorConfig {
  const p: Json = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Json) : {};
  if (raw !== undefined && raw !== null && p !== raw) throw new ConfigError(file, 'expected a JSON object');
  const at: Where = { file };
  const patch = p.patch_size;
  let patchHeight = 16;
  let patchWidth = 16;
  if (patch !== undefined && patch !== null) {
    const ps = patch as Json;
    if (typeof patch !== 'object' || !isPositiveInt(ps.height) || !isPositiveInt(ps.width)) {
      throw new ConfigError(file, `"patch_size" must be {"height": n, "width": n}, got ${JSON.stringify(patch)}`, 'patch_size');
    }
    patchHeight = bounded(at, 'patch_size.height', ps.height as number, 'patchSide');
    patchWidth = bounded(at, 'patch_size.width', ps.width as number, 'patchSide');
  }
  const maxPatches = size(at, p, 'max_patches', 2048, 'maxPatches');
  checkPatchBuffer(file, maxPatches, patchHeight, patchWidth);
  return {
    maxPatches,
    patchHeight,
    patchWidth,
    isVqa: field(at, p, 'is_vqa', model.isVqa, isBool, 'a boolean'),
    doNormalize: field(at, p, 'do_normalize', true, isBool, 'a boolean'),
    doConvertRgb: field(at, p, 'do_convert_rgb', true, isBool, 'a boolean'),
  };
}

/** One image's flattened patches are max_patches rows of 3·height·width pixels plus row and column. */
function checkPatchBuffer(file: string, maxPatches: number, patchHeight: number, patchWidth: number): void {
  const floats = maxPatches * (3 * patchHeight * patchWidth + 2);
  if (floats > CONFIG_LIMITS.patchFloats) {
    throw new ConfigError(
      file,
      `"max_patches" ${maxPatches} of ${patchHeight}×${patchWidth} "patch_size" would need ${floats} floats per image, more than the ${CONFIG_LIMITS.patchFloats} this runtime accepts`,
      'max_patches',
    );
  }
}
