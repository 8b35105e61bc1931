import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../model-runtime/src/errors';
import {
  DEPLOT_PROMPT,
  ai2dHeader,
  flattenUiTree,
  isNumericCell,
  numericColumns,
  optionLetter,
  parseAi2dAnswer,
  parseDeplotTable,
  parseNumericCell,
  parseUiStructure,
  rankRefExpCandidates,
  refExpHeader,
  toCsv,
  toMarkdown,
  trueFalseTokenProbability,
  type UiNode,
} from '../../model-runtime/src/tasks';

describe('prompts', () => {
  test('AI2D header: question then "(a) ... (b) ..." as convert_ai2d.py joins them', () => {
    assert.equal(ai2dHeader('What eats grass?', ['rabbit', 'hawk', 'snake']), 'What eats grass? (a) rabbit (b) hawk (c) snake');
    assert.equal(optionLetter(25), 'z');
    assert.throws(() => ai2dHeader('Q?', []), UsageError);
    assert.throws(() => ai2dHeader('Q?', Array.from({ length: 27 }, (_, i) => `o${i}`)), /at most 26/);
    assert.throws(() => ai2dHeader('  ', ['x']), /question is empty/);
  });

  test('RefExp header is the expression itself; DePlot prompt is the model card text', () => {
    assert.equal(refExpHeader('blue "Sign in" button'), 'blue "Sign in" button');
    assert.throws(() => refExpHeader(' '), /empty/);
    assert.equal(DEPLOT_PROMPT, 'Generate underlying data table of the figure below:');
  });
});

describe('parseAi2dAnswer', () => {
  const options = ['photosynthesis', 'respiration', 'water cycle', 'water'];

  test('option text, exact or differing in case, spacing and punctuation', () => {
    assert.equal(parseAi2dAnswer('respiration', options), 1);
    assert.equal(parseAi2dAnswer('  Water Cycle. ', options), 2);
    assert.equal(parseAi2dAnswer('"water"', options), 3);
    assert.equal(parseAi2dAnswer('PHOTOSYNTHESIS!', options), 0);
  });

  test('letters: bare, parenthesised, with ")" "." ":" and with a prefix', () => {
    assert.equal(parseAi2dAnswer('b', options), 1);
    assert.equal(parseAi2dAnswer('(C)', options), 2);
    assert.equal(parseAi2dAnswer('d)', options), 3);
    assert.equal(parseAi2dAnswer('a.', options), 0);
    assert.equal(parseAi2dAnswer('Answer: (b)', options), 1);
    assert.equal(parseAi2dAnswer('(d) water', options), 3);
    // The text after a letter wins over the letter: the model was trained on option texts.
    assert.equal(parseAi2dAnswer('(a) respiration', options), 1);
    // Out of range letters name nothing.
    assert.equal(parseAi2dAnswer('(f)', options), null);
  });

  test('options that are letters themselves are read as text first', () => {
    const lettered = ['E', 'B', 'D', 'A'];
    assert.equal(parseAi2dAnswer('A', lettered), 3);
    assert.equal(parseAi2dAnswer('a', lettered), 3);
    assert.equal(parseAi2dAnswer('(b)', lettered), 1); // "(b)" has the words "b": the option B
    assert.equal(parseAi2dAnswer('c', lettered), 2); // no option C: the third letter
  });

  test('containment: an option inside a longer answer, longest first; ambiguity gives null', () => {
    assert.equal(parseAi2dAnswer('it is the water cycle', options), 2);
    assert.equal(parseAi2dAnswer('through respiration.', options), 1);
    assert.equal(parseAi2dAnswer('a big leaf', ['leaf', 'root']), 0); // "a" here is an article, not option (a)
    assert.equal(parseAi2dAnswer('cycle', options), 2); // a fragment of exactly one option
    assert.equal(parseAi2dAnswer('synthesis', options), null); // whole words only
    assert.equal(parseAi2dAnswer('sun', ['sun energy', 'sun light']), null); // fits two options
    assert.equal(parseAi2dAnswer('', options), null);
    assert.equal(parseAi2dAnswer('nothing like it', options), null);
  });

  test('duplicate options resolve to the first', () => {
    assert.equal(parseAi2dAnswer('Frog', ['toad', 'frog', 'frog']), 1);
  });
});

describe('RefExp scoring', () => {
  test('trueFalseTokenProbability: log-softmax over the vocabulary and P(true) over the pair', () => {
    const logits = new Float32Array([1, 2, 3, 0.5, -1]);
    const z = Math.log([1, 2, 3, 0.5, -1].reduce((s, v) => s + Math.exp(v), 0));
    const r = trueFalseTokenProbability(logits, 2, 0);
    assert.ok(Math.abs(r.trueLogprob - (3 - z)) < 1e-12);
    assert.ok(Math.abs(r.falseLogprob - (1 - z)) < 1e-12);
    assert.ok(Math.abs(r.pTrue - Math.exp(3) / (Math.exp(3) + Math.exp(1))) < 1e-12);
    // Huge logits must not overflow.
    const big = trueFalseTokenProbability(new Float32Array([1000, 999, -Infinity]), 1, 0);
    assert.ok(Math.abs(big.pTrue - 1 / (1 + Math.E)) < 1e-9);
    assert.throws(() => trueFalseTokenProbability(logits, 5, 0), /outside the vocabulary/);
    assert.throws(() => trueFalseTokenProbability(logits, 1, 1), /same token id/);
    assert.throws(() => trueFalseTokenProbability(new Float32Array([0, Number.NaN]), 0, 1), /NaN/);
  });

  test('normalised ranking orders by P(true) / (P(true) + P(false)), not by raw P(true)', () => {
    // Candidate 7 has the higher raw P(true) but spreads more mass onto "false".
    const ranked = rankRefExpCandidates([
      { candidate: 7, trueLogprob: Math.log(0.5), falseLogprob: Math.log(0.45) },
      { candidate: 3, trueLogprob: Math.log(0.4), falseLogprob: Math.log(0.1) },
      { candidate: 9, trueLogprob: Math.log(0.05), falseLogprob: Math.log(0.9) },
    ]);
    assert.deepEqual(ranked.map((r) => r.candidate), [3, 7, 9]);
    assert.ok(Math.abs(ranked[0]!.pTrue - 0.8) < 1e-12);
    // Without falseLogprob the raw probability is all there is.
    const raw = rankRefExpCandidates([
      { candidate: 7, trueLogprob: Math.log(0.5) },
      { candidate: 3, trueLogprob: Math.log(0.4) },
    ]);
    assert.deepEqual(raw.map((r) => [r.candidate, Number(r.pTrue.toFixed(6))]), [[7, 0.5], [3, 0.4]]);
  });

  test("'pix2struct' ranking: answered-true first by log P(true), then answered-false by log P(false) ascending", () => {
    const scores = [
      { candidate: 0, trueLogprob: Math.log(0.3), falseLogprob: Math.log(0.6) }, // says false, P(false) 0.6
      { candidate: 1, trueLogprob: Math.log(0.55), falseLogprob: Math.log(0.05) }, // says true, 0.55
      { candidate: 2, trueLogprob: Math.log(0.2), falseLogprob: Math.log(0.3) }, // says false, P(false) 0.3
      { candidate: 3, trueLogprob: Math.log(0.6), falseLogprob: Math.log(0.39) }, // says true, 0.6
    ];
    assert.deepEqual(rankRefExpCandidates(scores, { method: 'pix2struct' }).map((r) => r.candidate), [3, 1, 2, 0]);
    // The normalised order differs here: candidate 1 (0.55 / 0.60) beats 3 (0.60 / 0.99).
    assert.deepEqual(rankRefExpCandidates(scores).map((r) => r.candidate), [1, 3, 2, 0]);
  });

  test('ties keep input order; inconsistent or invalid scores are rejected', () => {
    const tied = rankRefExpCandidates([
      { candidate: 4, trueLogprob: -1, falseLogprob: -2 },
      { candidate: 2, trueLogprob: -1, falseLogprob: -2 },
    ]);
    assert.deepEqual(tied.map((r) => r.candidate), [4, 2]);
    assert.throws(() => rankRefExpCandidates([{ candidate: 0, trueLogprob: -1, falseLogprob: -2 }, { candidate: 1, trueLogprob: -1 }]), /every RefExp candidate or for none/);
    assert.throws(() => rankRefExpCandidates([{ candidate: 0, trueLogprob: -1 }], { method: 'pix2struct' }), /needs falseLogprob/);
    assert.throws(() => rankRefExpCandidates([{ candidate: 0, trueLogprob: 2.5 }]), /not logits/);
    assert.throws(() => rankRefExpCandidates([{ candidate: 0, trueLogprob: -1 }, { candidate: 0, trueLogprob: -2 }]), /scored twice/);
    const impossible = rankRefExpCandidates([{ candidate: 0, trueLogprob: -Infinity, falseLogprob: -Infinity }]);
    assert.equal(impossible[0]!.pTrue, 0.5);
  });
});

describe('parseDeplotTable', () => {
  test('raw DePlot output with <0x0A> tokens', () => {
    const raw =
      'TITLE | Share of households with internet access <0x0A> Year | Urban | Rural <0x0A> 2015 | 62.1% | 31.4% <0x0A> 2016 | 66.5% | 35.2% <0x0A> 2017 | 70.3% | 39.9%';
    const table = parseDeplotTable(raw);
    assert.equal(table.title, 'Share of households with internet access');
    assert.deepEqual(table.header, ['Year', 'Urban', 'Rural']);
    assert.deepEqual(table.rows, [
      ['2015', '62.1%', '31.4%'],
      ['2016', '66.5%', '35.2%'],
      ['2017', '70.3%', '39.9%'],
    ]);
    assert.equal(table.ragged, false);
  });

  test('decoded output (real newlines, spaces around them), empty title, </s> left in', () => {
    const table = parseDeplotTable('TITLE | \n Characteristic | Revenue in million U.S. dollars \n 2019 | 1,234.5 \n 2020 | 987 </s>');
    assert.equal(table.title, '');
    assert.deepEqual(table.header, ['Characteristic', 'Revenue in million U.S. dollars']);
    assert.deepEqual(table.rows, [['2019', '1,234.5'], ['2020', '987']]);
  });

  test('ragged rows are padded; stray spaces, outer pipes and blank lines tolerated', () => {
    const table = parseDeplotTable('TITLE | Sales |\r\n| Region|Q1 | Q2 |\n\nNorth |10|12| 14\nSouth | 8\n   \n');
    assert.equal(table.title, 'Sales');
    assert.deepEqual(table.header, ['Region', 'Q1', 'Q2', '']);
    assert.deepEqual(table.rows, [['North', '10', '12', '14'], ['South', '8', '', '']]);
    assert.equal(table.ragged, true);
  });

  test('no TITLE row; a column called "Title" is not a title; markdown separators skipped', () => {
    const books = parseDeplotTable('Title | Author\n--- | ---\nDune | Herbert');
    assert.equal(books.title, null);
    assert.deepEqual(books.header, ['Title', 'Author']);
    assert.deepEqual(books.rows, [['Dune', 'Herbert']]);
    // deplot/metrics.py lower-cases before parsing, so "title |" is a title row too.
    assert.equal(parseDeplotTable('title | my table\nyear | argentina\n1999 | 200').title, 'my table');
    assert.deepEqual(parseDeplotTable(''), { title: null, header: [], rows: [], ragged: false });
    assert.deepEqual(parseDeplotTable('TITLE | Only a title'), { title: 'Only a title', header: [], rows: [], ragged: false });
  });

  test('truncated output (generation cut mid-row) still parses', () => {
    const table = parseDeplotTable('TITLE | GDP <0x0A> Country | 2020 | 2021 <0x0A> France | 2.6 | 2.9 <0x0A> Germ');
    assert.deepEqual(table.rows, [['France', '2.6', '2.9'], ['Germ', '', '']]);
    assert.equal(table.ragged, true);
  });
});

describe('toCsv and toMarkdown', () => {
  const table = {
    title: 'Quotes, "pipes" and more',
    header: ['Name', 'Value | unit', 'Note'],
    rows: [
      ['Smith, J.', '1,234', 'said "hi"'],
      ['plain', '5', ' padded '],
      ['multi\nline', 'a\\b', '<script>'],
    ],
  };

  test('CSV quotes commas, quotes, line breaks and edge spaces (RFC 4180), CRLF records', () => {
    assert.equal(
      toCsv(table),
      'Name,Value | unit,Note\r\n' +
        '"Smith, J.","1,234","said ""hi"""\r\n' +
        'plain,5," padded "\r\n' +
        '"multi\nline",a\\b,<script>\r\n',
    );
    assert.equal(toCsv({ title: null, header: [], rows: [] }), '');
  });

  test('Markdown escapes pipes and backslashes, neutralises "<", keeps rows on one line', () => {
    assert.equal(
      toMarkdown(table),
      '| Name | Value \\| unit | Note |\n' +
        '| --- | --- | --- |\n' +
        '| Smith, J. | 1,234 | said "hi" |\n' +
        '| plain | 5 |  padded  |\n' +
        '| multi line | a\\\\b | &lt;script> |\n',
    );
    assert.equal(toMarkdown({ title: null, header: [], rows: [] }), '');
  });

  test('round trip from DePlot text to CSV', () => {
    const csv = toCsv(parseDeplotTable('TITLE | x <0x0A> Label | Count <0x0A> "A", B | 3'));
    assert.equal(csv, 'Label,Count\r\n"""A"", B",3\r\n');
  });
});

describe('numeric cells', () => {
  test('numbers as charts write them', () => {
    assert.deepEqual(parseNumericCell('1,234.5'), { value: 1234.5, percent: false });
    assert.deepEqual(parseNumericCell('12%'), { value: 12, percent: true });
    assert.deepEqual(parseNumericCell(' -3.75 % '), { value: -3.75, percent: true });
    assert.deepEqual(parseNumericCell('$1,000,000'), { value: 1000000, percent: false });
    assert.deepEqual(parseNumericCell('−$4.2'), { value: -4.2, percent: false }); // Unicode minus
    assert.deepEqual(parseNumericCell('.5'), { value: 0.5, percent: false });
    assert.deepEqual(parseNumericCell('1.2e3'), { value: 1200, percent: false });
    assert.deepEqual(parseNumericCell('-0'), { value: 0, percent: false });
  });

  test('labels and ambiguous forms are not numbers', () => {
    for (const cell of ['', '2019-2020', '1,5', '12,34', 'N/A', 'Q1', '1.2.3', '-$-5', '%', '$', '1 234']) {
      assert.equal(isNumericCell(cell), false, cell);
    }
  });

  test('numericColumns: every non-empty body cell numeric', () => {
    const table = parseDeplotTable('Year | Sales | Note\n2019 | 1,200 | up\n2020 | | 5\n2021 | 12% | flat');
    assert.deepEqual(numericColumns(table), [true, true, false]);
  });
});

describe('parseUiStructure', () => {
  /** The tree as [tag, text, attributes, children] tuples, for compact expectations. */
  type Shape = [string, string | undefined, Record<string, string>, Shape[]];
  const shape = (n: UiNode): Shape => [n.tag, n.text, n.attributes, n.children.map(shape)];

  test("the paper's example parses into text and img nodes", () => {
    const out =
      '<<<Python> <img_src=py_logo.png img_alt=Python>> <<C++> <img_src=cpp_logo.png img_alt=C++>> <<Java> <img_src=java_logo.png img_alt=Java>> <Submit>>';
    const parsed = parseUiStructure(out);
    assert.equal(parsed.complete, true);
    assert.deepEqual(parsed.issues, []);
    const lang = (name: string, file: string): Shape => [
      'group',
      undefined,
      {},
      [
        ['text', name, {}, []],
        ['img', undefined, { src: file, alt: name }, []],
      ],
    ];
    assert.deepEqual(shape(parsed.root), [
      'root',
      undefined,
      {},
      [['group', undefined, {}, [lang('Python', 'py_logo.png'), lang('C++', 'cpp_logo.png'), lang('Java', 'java_logo.png'), ['text', 'Submit', {}, []]]]],
    ]);
    assert.deepEqual(flattenUiTree(parsed.root).map((n) => n.id), ['0', '0.0', '0.0.0', '0.0.0.0', '0.0.0.1', '0.0.1', '0.0.1.0', '0.0.1.1', '0.0.2', '0.0.2.0', '0.0.2.1', '0.0.3']);
    assert.ok(flattenUiTree(parsed.root).every((n) => n.closed));
  });

  test('alt text with spaces, entities, and text beside an image', () => {
    const { root } = parseUiStructure('<<Sign in img_src=ic_user.png img_alt=User  profile &amp; settings> <Tom &lt;3 &#x41;>>');
    const [img, text] = root.children[0]!.children;
    assert.equal(img!.tag, 'img');
    assert.equal(img!.text, 'Sign in');
    assert.deepEqual(img!.attributes, { src: 'ic_user.png', alt: 'User profile & settings' });
    assert.equal(text!.text, 'Tom <3 A');
  });

  test('HTML-looking input has no tag semantics: "<div>" is a node with text "div"', () => {
    const parsed = parseUiStructure('<div><p>Sign in</p></div>');
    assert.deepEqual(parsed.root.children.map((n) => n.text), ['div', 'p', '/p', '/div']);
    // "Sign in" sits between two nodes, outside both: it is text of the enclosing root.
    assert.equal(parsed.root.text, 'Sign in');
    assert.equal(parsed.complete, true);
  });

  test('stray ">" is skipped and reported, never thrown', () => {
    const parsed = parseUiStructure('<<Home>> > <Settings>>');
    assert.equal(parsed.complete, false);
    assert.deepEqual(parsed.issues.map((i) => [i.kind, i.offset]), [['stray-close', 9], ['stray-close', 21]]);
    assert.deepEqual(shape(parsed.root), ['root', undefined, {}, [['group', undefined, {}, [['text', 'Home', {}, []]]], ['text', 'Settings', {}, []]]]);
  });

  test('truncated output: open nodes closed at the end and flagged, half-written attributes kept', () => {
    const parsed = parseUiStructure('<<<Inbox> <img_src=mail.png img_alt=Unre');
    assert.equal(parsed.complete, false);
    assert.deepEqual(parsed.issues.map((i) => [i.kind, i.offset]), [['unclosed', 0], ['unclosed', 1], ['unclosed', 10]]);
    const [outer] = parsed.root.children;
    const [inner] = outer!.children;
    assert.equal(outer!.closed, false);
    assert.equal(inner!.closed, false);
    assert.deepEqual(inner!.children.map((n) => [n.tag, n.text, n.attributes, n.closed]), [
      ['text', 'Inbox', {}, true],
      ['img', undefined, { src: 'mail.png', alt: 'Unre' }, false],
    ]);
    // Cut right after "<" and inside "img_" (before any "="): still no throw, still a tree.
    assert.equal(parseUiStructure('<<A> <').root.children[0]!.children.length, 2);
    assert.equal(parseUiStructure('<img_sr').root.children[0]!.text, 'img_sr');
  });

  test('ids stay stable as the output streams in', () => {
    const full = '<<Wi-Fi> <<On> <img_src=toggle.png>> <Bluetooth>>';
    const final = new Map(flattenUiTree(parseUiStructure(full).root).map((n) => [n.id, n]));
    for (let cut = 0; cut <= full.length; cut++) {
      const partial = parseUiStructure(full.slice(0, cut));
      for (const node of flattenUiTree(partial.root)) {
        assert.ok(final.has(node.id), `prefix ${cut}: id ${node.id} does not exist in the full parse`);
        // Fully closed subtrees are already final.
        if (node.closed && node.id !== '0') assert.deepEqual(shape(node), shape(final.get(node.id)!), `prefix ${cut}: ${node.id}`);
      }
    }
  });

  test('never throws on hostile input; deep nesting does not overflow', () => {
    const inputs = ['', '>>>>', '<<<<', '<>', '< >', '<img_=x>', '<img_constructor=x img___proto__=y>', '&#xFFFFFFFF; &#0; &bogus;', '<'.repeat(50000)];
    for (const text of inputs) assert.doesNotThrow(() => parseUiStructure(text), JSON.stringify(text.slice(0, 20)));
    const deep = parseUiStructure('<'.repeat(50000));
    assert.equal(deep.issues.length, 50000);
    assert.equal(flattenUiTree(deep.root).length, 50001);
    const weird = parseUiStructure('<img_constructor=x img___proto__=y>').root.children[0]!;
    // Attribute names are letters only, so "img___proto__=" is not a name: it stays in the value.
    assert.deepEqual(weird.attributes, { constructor: 'x img___proto__=y' });
    assert.equal(Object.getPrototypeOf(weird.attributes), Object.prototype);
  });
});
