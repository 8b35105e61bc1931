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
import { readJsonFile } from './json-file';
import { allTensors, matchWeights } from './match-weights';
import { entryExists, kindOf, whyUnreadable } from './open-file';
import type { TensorEntry } from './safetensors';
import { WEIGHT_FORMATS } from './weight-formats';
import { locateWeightFiles, type WeightFile } from './weight-files';

export type { WeightFile } from './weight-files';

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

/**
 * Loads and validates a checkpoint folder without reading any weight data: every tensor the
 * config implies must be there with its shape, and every tensor there must be used.
 */
export function loadCheckpoint(dir: string): Checkpoint {
  const absDir = path.resolve(dir);
  requireFolder(absDir);
  const configFile = path.join(absDir, 'config.json');
  const config = parseModelConfig(readJsonFile(configFile, true, ' (is this a Hugging Face Pix2Struct checkpoint folder?)'), configFile);
  if (config.vision.hiddenSize !== config.text.hiddenSize) {
    throw new ConfigError(configFile, `vision hidden_size ${config.vision.hiddenSize} differs from text hidden_size ${config.text.hiddenSize}`, 'text_config.hidden_size');
  }
  const generationFile = path.join(absDir, 'generation_config.json');
  const generation = parseGenerationConfig(readJsonFile(generationFile, false), config, generationFile);
  const preprocessorFile = path.join(absDir, 'preprocessor_config.json');
  const preprocessor = parsePreprocessorConfig(readJsonFile(preprocessorFile, false), config, preprocessorFile);
  const patchPixels = preprocessor.patchHeight * preprocessor.patchWidth * 3;
  if (config.vision.patchEmbedHiddenSize !== patchPixels) {
    throw new ConfigError(configFile, `patch_embed_hidden_size ${config.vision.patchEmbedHiddenSize} does not match ${preprocessor.patchHeight}x${preprocessor.patchWidth}x3 patches`, 'vision_config.patch_embed_hidden_size');
  }

  const files = locateWeightFiles(absDir);
  const format = WEIGHT_FORMATS.find((f) => files[0]!.file.endsWith(path.extname(f.single)))!;
  const missingWhere = files.length === 1 ? files[0]!.file : path.join(absDir, format.index);
  const weights = matchWeights(config, patchPixels, allTensors(files), missingWhere);
  return { dir: absDir, config, generation, preprocessor, weights, files, tokenizerFile: tokenizerFile(absDir) };
}

/** The model path must lead to a folder; anything else is named for what it is. */
function requireFolder(absDir: string): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(absDir);
  } catch (err) {
    const why = whyUnreadable(absDir, err as NodeJS.ErrnoException);
    throw new CheckpointError(absDir, why === 'file not found' ? 'model folder not found' : `model folder ${why}`, undefined, { cause: err });
  }
  if (!stats.isDirectory()) throw new CheckpointError(absDir, `is ${kindOf(stats)}, not a model folder`);
}

/**
 * tokenizer.json when the folder has one. Checked here, while nothing has been built yet: the
 * tokenizer itself is only loaded to decode, after the model has run. tokenizer_config.json is
 * read with it.
 */
function tokenizerFile(dir: string): string | null {
  const file = path.join(dir, 'tokenizer.json');
  if (!entryExists(file)) return null;
  for (const json of [file, path.join(dir, 'tokenizer_config.json')]) {
    const value = readJsonFile(json, false);
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw new ConfigError(json, 'expected a JSON object');
  }
  return file;
}
