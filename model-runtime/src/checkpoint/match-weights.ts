import * as path from 'node:path';
import { CheckpointError } from '../errors';
import type { Pix2StructConfig } from './config';
import type { TensorEntry } from './safetensors';
import type { WeightFile } from './weight-files';
import { expectedWeightShapes, textNames } from './weight-names';

/**
 * Every tensor of the weight files, by name. A name in two shards is refused: which copy
 * transformers keeps depends on the order it happens to read them.
 */
export function allTensors(files: readonly WeightFile[]): Map<string, TensorEntry> {
  const all = new Map<string, TensorEntry>();
  for (const { tensors } of files) {
    for (const [name, entry] of tensors) {
      const earlier = all.get(name);
      if (earlier) throw new CheckpointError(entry.file, `also stored in ${path.basename(earlier.file)}; a tensor must be in one shard`, name);
      all.set(name, entry);
    }
  }
  return all;
}

/**
 * The weights the graphs use, each present with the shape the config implies. Then every
 * tensor of the files must have been used: a config with too few layers, or weights of another
 * architecture, leave some over, and running without them would compute something else.
 * The one extra real checkpoints carry is the tied lm_head: with tie_word_embeddings
 * transformers overwrites decoder.lm_head.weight with decoder.embed_tokens.weight after
 * loading (`_tied_weights_keys`), and torch.save'd .bin files keep both names.
 * Pix2Struct sets no `_keys_to_ignore_on_load_unexpected`, in transformers 4.38 or 5.x.
 */
export function matchWeights(config: Pix2StructConfig, patchPixels: number, all: ReadonlyMap<string, TensorEntry>, missingWhere: string): Map<string, TensorEntry> {
  const weights = new Map<string, TensorEntry>();
  const expected = expectedWeightShapes(config, patchPixels);
  if (config.text.tieWordEmbeddings) expected.set(textNames.lmHead, [config.text.vocabSize, config.text.hiddenSize]);
  for (const [name, shape] of expected) {
    const entry = all.get(name);
    if (!entry) {
      if (name === textNames.lmHead && config.text.tieWordEmbeddings) continue;
      throw new CheckpointError(missingWhere, 'missing from the checkpoint', name);
    }
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(entry.file, `has shape [${entry.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`, name);
    }
    weights.set(name, entry);
  }
  if (config.text.tieWordEmbeddings) weights.set(textNames.lmHead, weights.get(textNames.embedTokens)!);
  refuseUnused(config, [...all.values()].filter((e) => !expected.has(e.name)));
  return weights;
}

function refuseUnused(config: Pix2StructConfig, unused: readonly TensorEntry[]): void {
  if (unused.length === 0) return;
  const [first, ...more] = unused;
  const others = more.length ? ` and ${more.length} more (${more.slice(0, 3).map((e) => `"${e.name}"`).join(', ')}${more.length > 3 ? ', …' : ''})` : '';
  throw new CheckpointError(first!.file, `is not used by the model config.json describes${others}${unusedHint(config, unused)}`, first!.name);
}

/** Extra layers are the usual cause: say which count config.json gives and what the weights hold. */
function unusedHint(config: Pix2StructConfig, unused: readonly TensorEntry[]): string {
  const deepest = (prefix: RegExp) => Math.max(-1, ...unused.map((e) => Number(prefix.exec(e.name)?.[1] ?? -1)));
  const encoder = deepest(/^encoder\.encoder\.layer\.(\d+)\./);
  const decoder = deepest(/^decoder\.layer\.(\d+)\./);
  if (encoder >= config.vision.numLayers) {
    return `: the weights have encoder layer ${encoder} but vision_config "num_hidden_layers" is ${config.vision.numLayers}`;
  }
  if (decoder >= config.text.numLayers) return `: the weights have decoder layer ${decoder} but text_config "num_layers" is ${config.text.numLayers}`;
  return ': weights of another architecture, or a config.json that does not match them?';
}
