import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { TEXT_ALIASES } from '../../model-runtime/src/checkpoint/config-aliases';
import { parseModelConfig } from '../../model-runtime/src/checkpoint/config';
import { ConfigError } from '../../model-runtime/src/errors';
import { MODEL_DIR } from '../helpers/fixture';
import { pyrefPython } from '../helpers/python';

const fixtureConfig = () => JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'config.json'), 'utf8'));

/** The fixture's config with text_config's `key` spelled `alias` instead (its value changed to `value`). */
function respelled(key: string, alias: string, value: number) {
  const config = fixtureConfig();
  delete config.text_config[key];
  config.text_config[alias] = value;
  return config;
}

function refusedFor(raw: unknown, key: string, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig(raw, 'config.json'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.key, key);
      assert.match(e.message, /^config\.json: /);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('config.json: the key aliases transformers accepts', () => {
  for (const [key, aliases] of Object.entries(TEXT_ALIASES)) {
    for (const alias of aliases) {
      test(`text_config "${alias}" sets ${key}`, () => {
        const field = key === 'num_layers' ? 'numLayers' : 'numHeads';
        assert.equal(parseModelConfig(respelled(key, alias, 3)).text[field], 3);
        // The same value under both names is no conflict.
        const both = fixtureConfig();
        both.text_config[alias] = both.text_config[key];
        assert.deepEqual(parseModelConfig(both), parseModelConfig(fixtureConfig()));
      });
    }
  }

  test('two spellings with different values are refused, naming both', () => {
    const config = fixtureConfig();
    config.text_config.num_hidden_layers = 3;
    refusedFor(config, 'text_config.num_layers', /text_config sets the same size twice with different values: "num_layers" is 2 but "num_hidden_layers" \(an alias transformers reads as "num_layers"\) is 3/);
    const aliases = fixtureConfig();
    delete aliases.text_config.num_heads;
    Object.assign(aliases.text_config, { num_attention_heads: 4, decoder_attention_heads: 8 });
    refusedFor(aliases, 'text_config.num_heads', /"num_attention_heads" is 4 but "decoder_attention_heads" .* is 8/);
  });

  test('an alias with a bad value is reported under the name the file uses', () => {
    refusedFor(respelled('num_layers', 'decoder_layers', -2), 'text_config.decoder_layers', /text_config "decoder_layers" must be a positive integer, got -2/);
    refusedFor(respelled('num_heads', 'num_attention_heads', 1e6), 'text_config.num_attention_heads', /text_config "num_attention_heads" is 1000000, more than 256/);
  });

  test('vision_config has no aliases: look-alike keys transformers ignores are refused when they disagree', () => {
    const agreeing = fixtureConfig();
    Object.assign(agreeing.vision_config, { num_layers: 2, num_heads: 4, d_model: 64 });
    assert.deepEqual(parseModelConfig(agreeing), parseModelConfig(fixtureConfig()));

    const lone = fixtureConfig();
    delete lone.vision_config.num_hidden_layers;
    lone.vision_config.num_layers = 2;
    // transformers would build its default 12 layers here, not 2.
    refusedFor(lone, 'vision_config.num_layers', /vision_config "num_layers" is 2, but transformers ignores that key here and uses "num_hidden_layers" = 12/);

    const dModel = fixtureConfig();
    dModel.text_config.d_model = 512;
    refusedFor(dModel, 'text_config.d_model', /text_config "d_model" is 512, but transformers ignores that key here and uses "hidden_size" = 64/);
  });

  const python = pyrefPython();
  test('the alias table covers the attribute_map of the reference transformers', { skip: !python && 'no .cache/pyref (scripts/python-env.sh)' }, () => {
    const script = [
      'import json, transformers',
      'from transformers import Pix2StructConfig, Pix2StructTextConfig, Pix2StructVisionConfig',
      'maps = {c.__name__: dict(c.attribute_map) for c in (Pix2StructConfig, Pix2StructTextConfig, Pix2StructVisionConfig)}',
      'print(json.dumps(maps))',
    ].join('\n');
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const maps = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, Record<string, string>>;
    const nonIdentity = (m: Record<string, string>) => Object.entries(m).filter(([from, to]) => from !== to);
    assert.deepEqual(nonIdentity(maps.Pix2StructVisionConfig!), []);
    assert.deepEqual(nonIdentity(maps.Pix2StructConfig!), []);
    const text = nonIdentity(maps.Pix2StructTextConfig!);
    assert.ok(text.length >= 2);
    for (const [alias, key] of text) assert.ok(TEXT_ALIASES[key]?.includes(alias), `transformers maps ${alias} -> ${key}`);
  });
});
