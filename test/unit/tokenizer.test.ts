import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Pix2StructTokenizer } from '../../model-runtime/src/tokenizer';
import { tempDir } from '../helpers/fixture';
import { pyrefPython } from '../helpers/python';

const SENTENCES = [
  'a screenshot of a settings page with a blue header',
  'What is the highest value in the chart?',
  'TITLE | Sales <0x0A> Year | Revenue <0x0A> 2021 | 1,234.5 <0x0A> 2022 | 2,001',
  'Sign in with your Google Account',
  'the button labelled "Next" opens the checkout screen',
  'Ünïcödé and emoji ✓ are rare here',
];

describe('tokenizer.json through @huggingface/tokenizers matches the Python tokenizers library', () => {
  const python = pyrefPython();
  test('encode and decode agree with Python on a trained T5-style Unigram model', { skip: python ? false : 'Python reference (.cache/pyref) missing: run scripts/python-env.sh' }, () => {
    const dir = tempDir('tok');
    const run = spawnSync(python!, [path.join(__dirname, '../python/make_tokenizer.py'), dir], { input: SENTENCES.join('\n'), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const ref = JSON.parse(run.stdout) as { cases: { text: string; ids: number[]; decoded: string }[]; special: Record<string, number> };
    assert.deepEqual(ref.special, { pad: 0, eos: 1, unk: 2 });
    const tok = Pix2StructTokenizer.load(path.join(dir, 'tokenizer.json'));
    for (const c of ref.cases) {
      assert.deepEqual(tok.encode(c.text), c.ids, `encode ${c.text}`);
      assert.equal(c.ids.at(-1), ref.special.eos);
      // Generated sequences start with the decoder start id (pad) and may end with eos.
      assert.equal(tok.decode([ref.special.pad, ...c.ids]), c.decoded.replace(/<0x0A>/g, '\n'));
    }
    assert.ok(tok.decode(ref.cases[2]!.ids).includes('\n'), 'DePlot rows come back as lines');
  });

  test('a broken tokenizer.json is named in the error', () => {
    const dir = tempDir('badtok');
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ');
    assert.throws(() => Pix2StructTokenizer.load(path.join(dir, 'tokenizer.json')), /tokenizer\.json: cannot read tokenizer/);
  });
});
