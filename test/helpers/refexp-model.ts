import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * A RefExp and UI-parsing stand-in for tests: the fixture's random model-a plus a hand-written
 * T5-style tokenizer.json (the real Pix2Struct vocabulary is not available offline). It gives
 * "true" and "false" tokens of their own, at ids the tests read back from here, and spells the
 * fixture's greedy output for the UI image (reference ids in index.json) as a small UI tree, so
 * Parse UI Structure has nodes with text to ground.
 */

/** Ids of "▁true" and "▁false" in the written vocabulary (within model-a's 50244 logits). */
export const REFEXP_TRUE_ID = 211;
export const REFEXP_FALSE_ID = 307;

/** Pieces for model-a's greedy ids on the UI image, in order (the same id is the same piece). */
const UI_PIECES = ['<<', 'Sett', 'ings>', '▁<Wi', '‐', 'Fi>', '▁<Blue', 'tooth', '>▁<', 'Bat', 'tery', '▁saver', '>▁<Dark', '▁mode', '>', '▁<Help', '>', '▁<About', '▁phone', '>>'];
/** What UI_PIECES decode to: the text Parse UI Structure shows for the UI image (256 patches, 20 tokens). */
export const UI_TEXT = '<<Settings> <Wi‐Fi> <Bluetooth> <Battery saver> <Dark mode> <Help> <About phone>>';

/** `uiGreedyIds`: the reference greedy ids (decoder start first) the pieces are assigned to. */
function tokenizerJson(uiGreedyIds: readonly number[]): object {
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
  const generated = uiGreedyIds.slice(1);
  if (generated.length !== UI_PIECES.length) throw new Error(`expected ${UI_PIECES.length} greedy ids, got ${generated.length}`);
  while (vocab.length <= Math.max(...generated)) vocab.push([`<filler_${vocab.length}>`, -20]);
  generated.forEach((id, i) => {
    const known = vocab[id]![0];
    if (!known.startsWith('<filler_') && known !== UI_PIECES[i]) throw new Error(`greedy id ${id} cannot be both ${known} and ${UI_PIECES[i]}`);
    vocab[id] = [UI_PIECES[i]!, -30];
  });
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

/**
 * Copies `modelDir` (the fixture's model-a) into `dest` with the tokenizer above; the fixture's
 * index.json beside `modelDir` gives the UI image's greedy ids.
 */
export function makeRefExpModel(modelDir: string, dest: string): string {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(modelDir)) fs.copyFileSync(path.join(modelDir, f), path.join(dest, f));
  const index = JSON.parse(fs.readFileSync(path.join(path.dirname(modelDir), 'index.json'), 'utf8'));
  const greedy: number[] = index.models[path.basename(modelDir)].images.ui.greedy_ids;
  fs.writeFileSync(path.join(dest, 'tokenizer.json'), JSON.stringify(tokenizerJson(greedy)));
  fs.writeFileSync(path.join(dest, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' }));
  return dest;
}
