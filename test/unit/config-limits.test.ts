import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseGenerationConfig, parseModelConfig, parsePreprocessorConfig } from '../../model-runtime/src/checkpoint/config';
import { CONFIG_LIMITS } from '../../model-runtime/src/checkpoint/config-limits';
import { ConfigError } from '../../model-runtime/src/errors';
import { MODEL_DIR } from '../helpers/fixture';

const fixtureConfig = () => JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'config.json'), 'utf8'));
const model = parseModelConfig(fixtureConfig());

// The sizes of google/pix2struct-large, the largest released Pix2Struct (its conversion script,
// convert_pix2struct_original_pytorch_to_hf.py, and its preprocessor's max_patches).
const LARGE = {
  vision_config: { hidden_size: 1536, d_ff: 3968, num_attention_heads: 24, num_hidden_layers: 18, d_kv: 64, seq_len: 4096 },
  text_config: { hidden_size: 1536, d_ff: 3968, num_heads: 24, num_layers: 18, d_kv: 64, vocab_size: 50244 },
};

function refused(parse: () => unknown, file: string, key: string, pattern: RegExp): void {
  assert.throws(parse, (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.file, file);
    assert.equal(e.key, key);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('config sizes are bounded before anything is allocated from them', () => {
  test('every released checkpoint size is inside the bounds', () => {
    const large = parseModelConfig({ model_type: 'pix2struct', ...LARGE });
    assert.deepEqual([large.vision.numLayers, large.text.numHeads, large.vision.seqLen], [18, 24, 4096]);
    assert.equal(parsePreprocessorConfig({ max_patches: 4096 }, large).maxPatches, 4096);
  });

  const cases: [section: 'vision_config' | 'text_config', key: string, limit: number][] = [
    ['vision_config', 'num_hidden_layers', CONFIG_LIMITS.layers],
    ['text_config', 'num_layers', CONFIG_LIMITS.layers],
    ['vision_config', 'num_attention_heads', CONFIG_LIMITS.heads],
    ['text_config', 'num_heads', CONFIG_LIMITS.heads],
    ['vision_config', 'hidden_size', CONFIG_LIMITS.hidden],
    ['text_config', 'd_ff', CONFIG_LIMITS.dFf],
    ['text_config', 'd_kv', CONFIG_LIMITS.dKv],
    ['text_config', 'vocab_size', CONFIG_LIMITS.vocab],
    ['vision_config', 'seq_len', CONFIG_LIMITS.seqLen],
    ['text_config', 'relative_attention_num_buckets', CONFIG_LIMITS.relativeBuckets],
  ];
  for (const [section, key, limit] of cases) {
    test(`${section}.${key}: ${limit} is accepted, ${limit + 1} and a billion are refused by name`, () => {
      const at = fixtureConfig();
      at[section][key] = limit;
      if (key.includes('head')) at[section].d_kv = 1; // keep heads × d_kv inside its own bound
      assert.doesNotThrow(() => parseModelConfig(at));
      for (const value of [limit + 1, 1e9]) {
        const over = fixtureConfig();
        over[section][key] = value;
        refused(() => parseModelConfig(over, 'config.json'), 'config.json', `${section}.${key}`, new RegExp(`${section} "${key}" is ${value}, more than ${limit}`));
      }
    });
  }

  test('heads × d_kv is bounded as one attention width', () => {
    const wide = fixtureConfig();
    Object.assign(wide.text_config, { num_heads: 128, d_kv: 1024 });
    refused(() => parseModelConfig(wide, 'config.json'), 'config.json', 'text_config.num_heads', /text_config "num_heads" × "d_kv" is 128 × 1024 = 131072, more than 65536/);
  });

  test('negative, fractional, string and boolean sizes are refused with the value shown', () => {
    for (const [value, shown] of [[-1, '-1'], [0, '0'], [2.5, '2.5'], ['2', '"2"'], [true, 'true']] as const) {
      const config = fixtureConfig();
      config.vision_config.num_hidden_layers = value;
      refused(() => parseModelConfig(config, 'config.json'), 'config.json', 'vision_config.num_hidden_layers', new RegExp(`"num_hidden_layers" must be a positive integer, got ${shown.replace('.', '\\.')}`));
    }
  });

  test('token ids the decoder embeds must lie inside the vocabulary', () => {
    const config = fixtureConfig();
    config.pad_token_id = 50244;
    refused(() => parseModelConfig(config, 'config.json'), 'config.json', 'pad_token_id', /"pad_token_id" is 50244, outside the 50244-token vocabulary/);
    refused(() => parseGenerationConfig({ decoder_start_token_id: 99999 }, model, 'g.json'), 'g.json', 'decoder_start_token_id', /outside the 50244-token vocabulary/);
    assert.deepEqual(parseGenerationConfig({ eos_token_id: [1, 50243] }, model).eosTokenIds, [1, 50243]);
  });

  test('preprocessor_config.json: max_patches, patch_size and their product', () => {
    refused(() => parsePreprocessorConfig({ max_patches: 1e9 }, model, 'p.json'), 'p.json', 'max_patches', /"max_patches" is 1000000000, more than 65536/);
    refused(() => parsePreprocessorConfig({ patch_size: { height: 16, width: 257 } }, model, 'p.json'), 'p.json', 'patch_size.width', /"patch_size\.width" is 257, more than 256/);
    assert.equal(parsePreprocessorConfig({ max_patches: CONFIG_LIMITS.maxPatches }, model).maxPatches, CONFIG_LIMITS.maxPatches);
    // Each bound alone holds, but 4096 patches of 256×256 pixels would be 3 GiB per image.
    refused(() => parsePreprocessorConfig({ max_patches: 4096, patch_size: { height: 256, width: 256 } }, model, 'p.json'), 'p.json', 'max_patches', /would need 805314560 floats per image/);
  });

  test('generation_config.json: new tokens, max_length and beams', () => {
    refused(() => parseGenerationConfig({ max_new_tokens: 1e12 }, model, 'g.json'), 'g.json', 'max_new_tokens', /"max_new_tokens" is 1000000000000, more than 65536/);
    refused(() => parseGenerationConfig({ max_length: 1e7 }, model, 'g.json'), 'g.json', 'max_length', /more than 65536/);
    refused(() => parseGenerationConfig({ num_beams: 1000 }, model, 'g.json'), 'g.json', 'num_beams', /"num_beams" is 1000, more than 64/);
    refused(() => parseGenerationConfig({ num_beams: 'three' }, model, 'g.json'), 'g.json', 'num_beams', /"num_beams" must be a positive integer, got "three"/);
    const ok = parseGenerationConfig({ max_new_tokens: 512, num_beams: 4 }, model);
    assert.deepEqual([ok.maxNewTokens, ok.numBeams], [512, 4]);
  });

  test('tie_word_embeddings: either flag ties, as transformers 4.38 does', () => {
    const tie = (top: boolean | undefined, text: boolean | undefined) => {
      const config = fixtureConfig();
      config.tie_word_embeddings = top;
      config.text_config.tie_word_embeddings = text;
      return parseModelConfig(config).text.tieWordEmbeddings;
    };
    assert.deepEqual([tie(undefined, undefined), tie(false, false), tie(true, undefined), tie(true, false), tie(undefined, true)], [false, false, true, true, true]);
  });
});
