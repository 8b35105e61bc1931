import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, ConfigError } from '../errors';
import {
  parseGenerationConfig,
  parseModelConfig,
  parsePreprocessorConfig,
  type GenerationDefaults,
  type Pix2StructConfig,
  type PreprocessorConfig,
} from './config';
import { readSafetensorsHeader, type TensorEntry } from './safetensors';
import { readTorchBin } from './torch-bin';
import { WEIGHT_FORMATS } from './weight-formats';
import { expectedWeightShapes, textNames } from './weight-names';

/** One weights file and the tensors it holds; a SafetensorsHeader is one. */
export interface WeightFile {
  file: string;
  fileSize: number;
  tensors: Map<string, TensorEntry>;
}

/** A validated HF checkpoint folder: configs parsed, every weight located and shape-checked. */
export interface Checkpoint {
  dir: string;
  config: Pix2StructConfig;
  generation: GenerationDefaults;
  preprocessor: PreprocessorConfig;
  /** Weight name → location; the lm_head entry points at embed_tokens when tied. */
  weights: Map<string, TensorEntry>;
  /** The weight files (safetensors or pytorch_model.bin) backing `weights`. */
  files: WeightFile[];
  /** tokenizer.json when the folder has one. */
  tokenizerFile: string | null;
}

function readJson(file: string, required: boolean): unknown {
  if (!fs.existsSync(file)) {
    if (required) throw new ConfigError(file, 'file not found (is this a Hugging Face Pix2Struct checkpoint folder?)');
    return undefined;
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, `not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Picks the folder's weights: safetensors when present, else torch.save's pytorch_model.bin
 * (read without executing its pickle), each either a single file or shards behind an index.
 */
function locateWeightFiles(dir: string): WeightFile[] {
  const readBin = (file: string): WeightFile => ({ file, fileSize: fs.statSync(file).size, tensors: readTorchBin(file) });
  for (const { single: singleName, index: indexName } of WEIGHT_FORMATS) {
    const read = singleName.endsWith('.bin') ? readBin : readSafetensorsHeader;
    const single = path.join(dir, singleName);
    const index = path.join(dir, indexName);
    if (fs.existsSync(single)) return [read(single)];
    if (!fs.existsSync(index)) continue;
    const parsed = readJson(index, true) as { weight_map?: Record<string, unknown> };
    const map = parsed?.weight_map;
    if (typeof map !== 'object' || map === null) throw new CheckpointError(index, 'has no "weight_map" object');
    const shardNames = new Set<string>();
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
        throw new CheckpointError(index, `weight_map names an invalid shard ${JSON.stringify(shard)}`, name);
      }
      shardNames.add(shard);
    }
    const shards = [...shardNames].sort().map((s) => read(path.join(dir, s)));
    for (const [name, shard] of Object.entries(map)) {
      const weights = shards.find((h) => path.basename(h.file) === shard)!;
      if (!weights.tensors.has(name)) throw new CheckpointError(weights.file, 'listed in the index but missing from the shard', name);
    }
    return shards;
  }
  throw new CheckpointError(dir, 'no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json found');
}

/** Loads and validates a checkpoint folder without reading any weight data. */
export function loadCheckpoint(dir: string): Checkpoint {
  const absDir = path.resolve(dir);
  if (!fs.existsSync(absDir) || !fs.statSync(absDir).isDirectory()) {
    throw new CheckpointError(absDir, 'model folder not found');
  }
  const configFile = path.join(absDir, 'config.json');
  const config = parseModelConfig(readJson(configFile, true), configFile);
  if (config.vision.hiddenSize !== config.text.hiddenSize) {
    throw new ConfigError(configFile, `vision hidden_size ${config.vision.hiddenSize} differs from text hidden_size ${config.text.hiddenSize}`);
  }
  const generationFile = path.join(absDir, 'generation_config.json');
  const generation = parseGenerationConfig(readJson(generationFile, false), config, generationFile);
  const preprocessorFile = path.join(absDir, 'preprocessor_config.json');
  const preprocessor = parsePreprocessorConfig(readJson(preprocessorFile, false), config, preprocessorFile);

  const files = locateWeightFiles(absDir);
  const all = new Map<string, TensorEntry>();
  for (const header of files) for (const [name, entry] of header.tensors) all.set(name, entry);

  const patchPixels = preprocessor.patchHeight * preprocessor.patchWidth * 3;
  if (config.vision.patchEmbedHiddenSize !== patchPixels) {
    throw new ConfigError(configFile, `patch_embed_hidden_size ${config.vision.patchEmbedHiddenSize} does not match ${preprocessor.patchHeight}x${preprocessor.patchWidth}x3 patches`);
  }
  const weights = new Map<string, TensorEntry>();
  for (const [name, shape] of expectedWeightShapes(config, patchPixels)) {
    const entry = all.get(name);
    const format = WEIGHT_FORMATS.find((f) => files[0]!.file.endsWith(path.extname(f.single)))!;
    const where = files.length === 1 ? files[0]!.file : path.join(absDir, format.index);
    if (!entry) throw new CheckpointError(where, 'missing from the checkpoint', name);
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(entry.file, `has shape [${entry.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`, name);
    }
    weights.set(name, entry);
  }
  if (config.text.tieWordEmbeddings) weights.set(textNames.lmHead, all.get(textNames.lmHead) ?? weights.get(textNames.embedTokens)!);

  const tokenizerFile = path.join(absDir, 'tokenizer.json');
  return { dir: absDir, config, generation, preprocessor, weights, files, tokenizerFile: fs.existsSync(tokenizerFile) ? tokenizerFile : null };
}
