import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Pix2StructTokenizer } from '../../model-runtime/src/tokenizer';
import { tempDir } from '../helpers/fixture';
import { pyrefPython } from '../helpers/python';

const BYTE_PIECES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
const WORDS = ['▁', '▁Temperature', '▁25', 'C', '▁price', '▁5', '▁caf', '▁in', 'x', '▁TITLE', '▁|', '▁Year'];

/**
 * A T5-style tokenizer.json as Google's conversions have it: Unigram with the 256 byte-fallback
 * pieces <0x00>…<0xFF> in the vocabulary and a Metaspace-only decoder.
 */
function writeTokenizer(dir: string): string {
  const special = ['<pad>', '</s>', '<unk>'];
  const pieces = [...special, ...BYTE_PIECES, ...WORDS];
  const metaspace = { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: 2, byte_fallback: true, vocab: pieces.map((p, i) => [p, i < special.length ? 0 : -1 - i / 100]) },
  };
  const file = path.join(dir, 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

describe('byte-fallback pieces decode to UTF-8 text', () => {
  const dir = tempDir('tok-bytes');
  const file = writeTokenizer(dir);
  const tok = Pix2StructTokenizer.load(file);
  const vocab = [...['<pad>', '</s>', '<unk>'], ...BYTE_PIECES, ...WORDS];
  /** Ids of pieces; a number is a byte (its byte-fallback piece). */
  const ids = (...parts: (string | number)[]) => parts.map((p) => (typeof p === 'number' ? 3 + p : vocab.indexOf(p)));
  const PAD = 0;
  const EOS = 1;
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // "Temperature 25°C, price 5€ in café 中" as a model would generate it: words plus byte runs.
  const sentence = ids('▁Temperature', '▁25', 0xc2, 0xb0, 'C', '▁price', '▁5', 0xe2, 0x82, 0xac, '▁in', '▁caf', 0xc3, 0xa9, '▁', 0xe4, 0xb8, 0xad);

  test('°, €, é and 中 come back as characters, newlines as newlines, special tokens skipped', () => {
    assert.equal(tok.decode([PAD, ...sentence, EOS]), 'Temperature 25°C price 5€ in café 中');
    assert.equal(tok.decode(ids('▁TITLE', '▁|', '▁Year', 0x0a, '▁25')), 'TITLE | Year\n 25');
    assert.equal(tok.decode([PAD, EOS]), '');
  });

  test('bytes that cannot form a character become U+FFFD where they are', () => {
    assert.equal(tok.decode(ids('▁caf', 0xff, 'x')), 'caf\uFFFDx');
    // A lead byte cut off by a word piece: that character is over, whatever follows.
    assert.equal(tok.decode(ids('▁caf', 0xe4, 0xb8, 'x')), 'caf\uFFFDx');
    // 0xE0 0x80 is an overlong form: invalid at once, not "incomplete".
    assert.equal(tok.decodePartial(ids('▁caf', 0xe0, 0x80)), 'caf\uFFFD\uFFFD');
  });

  test('an unfinished character at the end: held back while streaming, U+FFFD once the sequence ends', () => {
    const cut = ids('▁caf', 0xe4, 0xb8);
    assert.equal(tok.decodePartial(cut), 'caf', 'nothing of 中 is shown before its last byte');
    assert.equal(tok.decode(cut), 'caf\uFFFD', 'a finished sequence shows the broken character');
    assert.equal(tok.decodePartial([...cut, EOS]), 'caf\uFFFD', 'eos ends the sequence: nothing more can complete it');
    assert.equal(tok.decodePartial([...cut, ...ids(0xad)]), 'caf中');
  });

  test('streaming token by token never shows half a character and ends with the full text', () => {
    const shown: string[] = [];
    const sofar = [PAD];
    for (const id of [...sentence, EOS]) {
      sofar.push(id);
      shown.push(tok.decodePartial(sofar));
    }
    const final = tok.decode(sofar);
    assert.equal(shown.at(-1), final);
    for (const [i, text] of shown.entries()) {
      assert.ok(!text.includes('\uFFFD'), `step ${i} shows a replacement character: ${JSON.stringify(text)}`);
      assert.ok(final.startsWith(text), `step ${i} is not a prefix of the answer: ${JSON.stringify(text)}`);
    }
    // Each character appears with its last byte, not before: ° after 0xB0, € after 0xAC, 中 after 0xAD.
    const at = (n: number) => shown[sentence.indexOf(ids(n)[0]!)]!;
    assert.equal(at(0xc2), 'Temperature 25');
    assert.equal(at(0xb0), 'Temperature 25°');
    assert.equal(at(0x82), 'Temperature 25°C price 5');
    assert.equal(at(0xac), 'Temperature 25°C price 5€');
    assert.equal(at(0xb8), 'Temperature 25°C price 5€ in café ', 'the lone ▁ before 中 is a space');
    assert.equal(at(0xad), 'Temperature 25°C price 5€ in café 中');
  });

  const python = pyrefPython();
  test('valid byte runs decode as Python tokenizers does with a ByteFallback decoder', { skip: python ? false : 'Python reference (.cache/pyref) missing: run scripts/python-env.sh' }, () => {
    const script = [
      'import json, sys',
      'from tokenizers import Tokenizer, decoders',
      'tok = Tokenizer.from_file(sys.argv[1])',
      "tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement='\u2581', add_prefix_space=True)])",
      'print(json.dumps([tok.decode(ids, skip_special_tokens=True) for ids in json.load(sys.stdin)]))',
    ].join('\n');
    const cases = [[PAD, ...sentence, EOS], ids('▁TITLE', '▁|', '▁Year', 0x0a, '▁25'), ids(0xc3, 0xa9, '▁caf')];
    const run = spawnSync(python!, ['-c', script, file], { input: JSON.stringify(cases), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(cases.map((c) => tok.decode(c)), JSON.parse(run.stdout));
  });
});
