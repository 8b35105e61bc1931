import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseGenerationConfig, parseModelConfig, parsePreprocessorConfig } from '../../model-runtime/src/checkpoint/config';
import { ConfigError } from '../../model-runtime/src/errors';
import { MODEL_DIR } from '../helpers/fixture';

const readJson = (name: string) => JSON.parse(fs.readFileSync(path.join(MODEL_DIR, name), 'utf8'));

describe('config.json', () => {
  test('the short form save_pretrained writes fills the same values as the spelled-out one', () => {
    assert.deepEqual(parseModelConfig(readJson('config.json')), parseModelConfig(readJson('config.full.json')));
  });

  test('defaults match the values transformers spelled out', () => {
    const full = readJson('config.full.json');
    const cfg = parseModelConfig(readJson('config.json'));
    assert.equal(cfg.text.vocabSize, full.text_config.vocab_size);
    assert.equal(cfg.text.relativeAttentionNumBuckets, full.text_config.relative_attention_num_buckets);
    assert.equal(cfg.text.relativeAttentionMaxDistance, full.text_config.relative_attention_max_distance);
    assert.equal(cfg.text.layerNormEpsilon, full.text_config.layer_norm_epsilon);
    assert.equal(cfg.text.denseActFn, full.text_config.dense_act_fn);
    assert.equal(cfg.vision.layerNormEps, full.vision_config.layer_norm_eps);
    assert.equal(cfg.vision.seqLen, full.vision_config.seq_len);
    assert.equal(cfg.vision.patchEmbedHiddenSize, full.vision_config.patch_embed_hidden_size);
    assert.equal(cfg.vision.denseActFn, full.vision_config.dense_act_fn);
    assert.equal(cfg.decoderStartTokenId, full.decoder_start_token_id);
    assert.equal(cfg.eosTokenId, full.eos_token_id);
    assert.equal(cfg.isVqa, full.is_vqa);
  });

  test('an empty config is pix2struct-base', () => {
    const cfg = parseModelConfig({ model_type: 'pix2struct' });
    assert.deepEqual([cfg.vision.hiddenSize, cfg.vision.numLayers, cfg.text.numLayers, cfg.text.numHeads, cfg.text.dFf], [768, 12, 12, 12, 2048]);
  });

  test('wrong values are named', () => {
    assert.throws(() => parseModelConfig({ vision_config: { d_kv: -1 } }), (e: unknown) => e instanceof ConfigError && /"d_kv" must be a positive integer, got -1/.test(e.message));
    assert.throws(() => parseModelConfig({ text_config: { dense_act_fn: 'swish' } }), /"dense_act_fn" "swish" is not supported/);
    assert.throws(() => parseModelConfig([]), /expected a JSON object/);
  });

  test('generation and preprocessor configs', () => {
    const model = parseModelConfig(readJson('config.json'));
    const gen = parseGenerationConfig(readJson('generation_config.json'), model);
    const rawGen = readJson('generation_config.json');
    assert.deepEqual(gen.eosTokenIds, [rawGen.eos_token_id]);
    assert.equal(gen.decoderStartTokenId, rawGen.decoder_start_token_id);
    assert.deepEqual(parseGenerationConfig({ eos_token_id: [1, 5] }, model).eosTokenIds, [1, 5]);
    const pre = parsePreprocessorConfig(readJson('preprocessor_config.json'), model);
    assert.equal(pre.maxPatches, readJson('preprocessor_config.json').max_patches);
    assert.throws(() => parsePreprocessorConfig({ patch_size: 16 }, model), /"patch_size" must be/);
  });
});
