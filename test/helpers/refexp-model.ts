import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * A RefExp stand-in for tests: the fixture's random model-a plus a tiny hand-written T5-style
 * tokenizer.json (the real Pix2Struct vocabulary is not available offline). Its only job is to
 * give "true" and "false" tokens of their own, at ids the tests read back from here.
 */

/** Ids of "▁true" and "▁false" in the written vocabulary (within model-a's 50244 logits). */
export const REFEXP_TRUE_ID = 211;
export const REFEXP_FALSE_ID = 307;

function tokenizerJson(): object {
  const vocab: [string, number][] = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
  ];
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.,:;!?\'"()/@&';
  for (const c of letters) vocab.push([c, -8], [`▁${c}`, -9]);
  vocab.push(['▁', -10]);
  // Filler pieces so that "true" and "false" sit at the ids exported above.
  while (vocab.length < REFEXP_FALSE_ID + 1) vocab.push([`<filler_${vocab.length}>`, -20]);
  vocab[REFEXP_TRUE_ID] = ['▁true', -1];
  vocab[REFEXP_FALSE_ID] = ['▁false', -1];
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<pad>'), special(1, '</s>'), special(2, '<unk>')],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' },
    model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
  };
}

/** Copies `modelDir` (the fixture's model-a) into `dest` as a VQA checkpoint with the tokenizer above. */
export function makeRefExpModel(modelDir: string, dest: string): string {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(modelDir)) fs.copyFileSync(path.join(modelDir, f), path.join(dest, f));
  const config = JSON.parse(fs.readFileSync(path.join(dest, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dest, 'config.json'), JSON.stringify({ ...config, is_vqa: true }));
  fs.writeFileSync(path.join(dest, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  fs.writeFileSync(path.join(dest, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' }));
  return dest;
}
