import { ConfigError } from '../errors';

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

function field<T>(file: string, obj: Json, key: string, fallback: T, check: (v: unknown) => boolean, what: string): T {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (!check(value)) throw new ConfigError(file, `"${key}" must be ${what}, got ${JSON.stringify(value)}`);
  return value as T;
}

const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const isNonNegativeInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const isPositiveNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isBool = (v: unknown) => typeof v === 'boolean';
const isString = (v: unknown) => typeof v === 'string';

function posInt(file: string, obj: Json, key: string, fallback: number): number {
  return field(file, obj, key, fallback, isPositiveInt, 'a positive integer');
}

function firstId(file: string, obj: Json, key: string, fallback: number): number {
  const v = obj[key];
  if (Array.isArray(v) && v.length > 0 && v.every(isNonNegativeInt)) return v[0] as number;
  return field(file, obj, key, fallback, isNonNegativeInt, 'a token id');
}

function activation(file: string, obj: Json, fallback: string): string {
  const act = field(file, obj, 'dense_act_fn', fallback, isString, 'a string');
  if (!SUPPORTED_ACTIVATIONS.has(act)) {
    throw new ConfigError(file, `"dense_act_fn" ${JSON.stringify(act)} is not supported (expected one of ${[...SUPPORTED_ACTIVATIONS].join(', ')})`);
  }
  return act;
}

/** Parses an HF Pix2Struct `config.json`, filling every default the short form leaves out. */
export function parseModelConfig(raw: unknown, file = 'config.json'): Pix2StructConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, 'expected a JSON object');
  const top = raw as Json;
  if (top.model_type !== undefined && top.model_type !== 'pix2struct') {
    throw new ConfigError(file, `"model_type" is ${JSON.stringify(top.model_type)}, expected "pix2struct"`);
  }
  const sub = (key: string): Json => {
    const v = top[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(file, `"${key}" must be an object`);
    return v as Json;
  };
  const v = sub('vision_config');
  const t = sub('text_config');

  const vision: VisionConfig = {
    hiddenSize: posInt(file, v, 'hidden_size', VISION_DEFAULTS.hidden_size),
    patchEmbedHiddenSize: posInt(file, v, 'patch_embed_hidden_size', VISION_DEFAULTS.patch_embed_hidden_size),
    dFf: posInt(file, v, 'd_ff', VISION_DEFAULTS.d_ff),
    dKv: posInt(file, v, 'd_kv', VISION_DEFAULTS.d_kv),
    numLayers: posInt(file, v, 'num_hidden_layers', VISION_DEFAULTS.num_hidden_layers),
    numHeads: posInt(file, v, 'num_attention_heads', VISION_DEFAULTS.num_attention_heads),
    layerNormEps: field(file, v, 'layer_norm_eps', VISION_DEFAULTS.layer_norm_eps, isPositiveNumber, 'a positive number'),
    denseActFn: activation(file, v, VISION_DEFAULTS.dense_act_fn),
    seqLen: posInt(file, v, 'seq_len', VISION_DEFAULTS.seq_len),
  };
  const tieTop = field(file, top, 'tie_word_embeddings', TEXT_DEFAULTS.tie_word_embeddings, isBool, 'a boolean');
  const text: TextConfig = {
    vocabSize: posInt(file, t, 'vocab_size', TEXT_DEFAULTS.vocab_size),
    hiddenSize: posInt(file, t, 'hidden_size', TEXT_DEFAULTS.hidden_size),
    dFf: posInt(file, t, 'd_ff', TEXT_DEFAULTS.d_ff),
    dKv: posInt(file, t, 'd_kv', TEXT_DEFAULTS.d_kv),
    numLayers: posInt(file, t, 'num_layers', TEXT_DEFAULTS.num_layers),
    numHeads: posInt(file, t, 'num_heads', TEXT_DEFAULTS.num_heads),
    relativeAttentionNumBuckets: posInt(file, t, 'relative_attention_num_buckets', TEXT_DEFAULTS.relative_attention_num_buckets),
    relativeAttentionMaxDistance: posInt(file, t, 'relative_attention_max_distance', TEXT_DEFAULTS.relative_attention_max_distance),
    layerNormEpsilon: field(file, t, 'layer_norm_epsilon', TEXT_DEFAULTS.layer_norm_epsilon, isPositiveNumber, 'a positive number'),
    denseActFn: activation(file, t, TEXT_DEFAULTS.dense_act_fn),
    tieWordEmbeddings: field(file, t, 'tie_word_embeddings', tieTop, isBool, 'a boolean'),
  };
  if (text.relativeAttentionNumBuckets < 2) {
    throw new ConfigError(file, '"relative_attention_num_buckets" must be at least 2');
  }
  return {
    vision,
    text,
    isVqa: field(file, top, 'is_vqa', false, isBool, 'a boolean'),
    decoderStartTokenId: firstId(file, top, 'decoder_start_token_id', firstId(file, t, 'decoder_start_token_id', TEXT_DEFAULTS.decoder_start_token_id)),
    padTokenId: firstId(file, top, 'pad_token_id', firstId(file, t, 'pad_token_id', TEXT_DEFAULTS.pad_token_id)),
    eosTokenId: firstId(file, top, 'eos_token_id', firstId(file, t, 'eos_token_id', TEXT_DEFAULTS.eos_token_id)),
  };
}

/** Parses `generation_config.json` (optional), falling back to the model config. */
export function parseGenerationConfig(raw: unknown, model: Pix2StructConfig, file = 'generation_config.json'): GenerationDefaults {
  const g: Json = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Json) : {};
  if (raw !== undefined && raw !== null && g !== raw) throw new ConfigError(file, 'expected a JSON object');
  const eos = g.eos_token_id;
  let eosTokenIds: number[];
  if (eos === undefined || eos === null) eosTokenIds = [model.eosTokenId];
  else if (Array.isArray(eos) && eos.every(isNonNegativeInt)) eosTokenIds = eos as number[];
  else if (isNonNegativeInt(eos)) eosTokenIds = [eos as number];
  else throw new ConfigError(file, `"eos_token_id" must be a token id or a list of them, got ${JSON.stringify(eos)}`);
  const early = g.early_stopping;
  if (early !== undefined && early !== null && early !== true && early !== false && early !== 'never') {
    throw new ConfigError(file, `"early_stopping" must be true, false or "never", got ${JSON.stringify(early)}`);
  }
  const maxNew = g.max_new_tokens;
  return {
    decoderStartTokenId: firstId(file, g, 'decoder_start_token_id', model.decoderStartTokenId),
    eosTokenIds,
    padTokenId: firstId(file, g, 'pad_token_id', model.padTokenId),
    maxNewTokens: maxNew === undefined || maxNew === null ? null : posInt(file, g, 'max_new_tokens', 1),
    maxLength: posInt(file, g, 'max_length', 20),
    numBeams: posInt(file, g, 'num_beams', 1),
    lengthPenalty: field(file, g, 'length_penalty', 1.0, (x) => typeof x === 'number' && Number.isFinite(x), 'a number'),
    earlyStopping: (early ?? false) as boolean | 'never',
  };
}

/** Parses `preprocessor_config.json` (optional). */
export function parsePreprocessorConfig(raw: unknown, model: Pix2StructConfig, file = 'preprocessor_config.json'): PreprocessorConfig {
  const p: Json = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Json) : {};
  if (raw !== undefined && raw !== null && p !== raw) throw new ConfigError(file, 'expected a JSON object');
  const patch = p.patch_size;
  let patchHeight = 16;
  let patchWidth = 16;
  if (patch !== undefined && patch !== null) {
    const ps = patch as Json;
    if (typeof patch !== 'object' || !isPositiveInt(ps.height) || !isPositiveInt(ps.width)) {
      throw new ConfigError(file, `"patch_size" must be {"height": n, "width": n}, got ${JSON.stringify(patch)}`);
    }
    patchHeight = ps.height as number;
    patchWidth = ps.width as number;
  }
  return {
    maxPatches: posInt(file, p, 'max_patches', 2048),
    patchHeight,
    patchWidth,
    isVqa: field(file, p, 'is_vqa', model.isVqa, isBool, 'a boolean'),
    doNormalize: field(file, p, 'do_normalize', true, isBool, 'a boolean'),
    doConvertRgb: field(file, p, 'do_convert_rgb', true, isBool, 'a boolean'),
  };
}
