import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  altTextEdit,
  applyEdit,
  candidatePaths,
  escapeHtmlAttribute,
  escapeMarkdownAlt,
  findImageReferences,
  referenceAt,
  referencePointsAt,
  referenceSrc,
} from '../../src/alt-text';

const DOC = path.join(path.sep, 'ws', 'docs', 'guide.md');
const CHART = path.join(path.sep, 'ws', 'img', 'chart.png');

/** The alt text as a CommonMark reader sees it: backslash escapes removed. */
const readMarkdownAlt = (s: string) => s.replace(/\\([!-/:-@[-`{-~])/g, '$1');
/** An HTML attribute value as a browser decodes it. */
const readHtmlAttribute = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('image references in Markdown and HTML', () => {
  test('finds Markdown references with titles, angle brackets, escaped and nested brackets', () => {
    const text = [
      'Intro ![a chart](../img/chart.png "Sales") and ![](<my pic.png>).',
      '![see \\[1\\] and [note]](x.png)',
      'not an image: [link](chart.png)',
    ].join('\n');
    const refs = findImageReferences(text);
    assert.deepEqual(
      refs.map((r) => [r.kind, r.src, r.alt, text.slice(r.start, r.end)]),
      [
        ['markdown', '../img/chart.png', 'a chart', '![a chart](../img/chart.png "Sales")'],
        ['markdown', 'my pic.png', '', '![](<my pic.png>)'],
        ['markdown', 'x.png', 'see [1] and [note]', '![see \\[1\\] and [note]](x.png)'],
      ],
    );
  });

  test('finds HTML img tags whatever the attribute order and quoting, and decodes entities', () => {
    const text = `<p><img alt='old &amp; "quoted"' class=x src="../img/chart.png"> <IMG SRC=pic.png> <img data-src="no.png"></p>`;
    const refs = findImageReferences(text);
    assert.equal(refs.length, 2, 'an img without src is not a reference');
    assert.deepEqual([refs[0]!.src, refs[0]!.alt, refs[0]!.hasAlt], ['../img/chart.png', 'old & "quoted"', true]);
    assert.deepEqual([refs[1]!.src, refs[1]!.hasAlt], ['pic.png', false]);
  });

  test('the reference at the cursor: inside it and right after it, not elsewhere', () => {
    const text = 'a ![x](p.png) b';
    assert.equal(referenceAt(text, 2)?.src, 'p.png');
    assert.equal(referenceAt(text, 13)?.src, 'p.png');
    assert.equal(referenceAt(text, 14), undefined);
    assert.equal(referenceAt(text, 0), undefined);
  });

  test('src resolves against the document folder, URL-decoded, without query or fragment', () => {
    assert.ok(referencePointsAt({ src: '../img/chart.png' }, CHART, DOC));
    assert.ok(referencePointsAt({ src: '../img/chart.png?raw=1#top' }, CHART, DOC));
    assert.ok(referencePointsAt({ src: '../img/ch%61rt.png' }, CHART, DOC));
    assert.ok(!referencePointsAt({ src: 'chart.png' }, CHART, DOC));
    assert.ok(referencePointsAt({ src: '/img/chart.png' }, CHART, DOC, [path.join(path.sep, 'ws')]), 'a leading / may mean the workspace root');
    assert.deepEqual(candidatePaths('https://example.com/chart.png', DOC), []);
    assert.deepEqual(candidatePaths('data:image/png;base64,AAAA', DOC), []);
  });
});

describe('alt text escaping', () => {
  test('Markdown: brackets, backslashes and emphasis marks are escaped and read back unchanged', () => {
    const alt = 'a [bold] *claim* \\ with_under `code`';
    const escaped = escapeMarkdownAlt(alt);
    assert.doesNotMatch(escaped.replace(/\\./g, ''), /[[\]*_`\\]/, 'no unescaped specials remain');
    assert.equal(readMarkdownAlt(escaped), alt);
    const text = `![${escaped}](x.png)`;
    assert.equal(findImageReferences(text)[0]!.alt, alt, 'the reference parses with the escaped alt inside');
  });

  test('Markdown: line breaks become spaces (alt text is one line)', () => {
    assert.equal(escapeMarkdownAlt('  two\nlines\r\n here '), 'two lines here');
  });

  test('HTML: quotes, ampersands and angle brackets cannot end the attribute', () => {
    const alt = `he said "hi" & it's <b>`;
    const escaped = escapeHtmlAttribute(alt);
    assert.doesNotMatch(escaped, /["'<>]/);
    assert.equal(readHtmlAttribute(escaped), alt);
  });
});

describe('where the alt text goes', () => {
  const image = { path: CHART, documentPath: DOC, languageId: 'markdown' };

  test('replaces the alt of the Markdown reference under the cursor when it shows the image', () => {
    const text = 'See ![old](../img/chart.png "t") here.';
    const { edit, replaced } = altTextEdit(text, 8, 'A bar chart [2024]', image);
    assert.ok(replaced);
    assert.equal(applyEdit(text, edit), 'See ![A bar chart \\[2024\\]](../img/chart.png "t") here.');
  });

  test('replaces or adds the alt attribute of an HTML img', () => {
    const withAlt = '<img src="../img/chart.png" alt="old">';
    const a = altTextEdit(withAlt, 3, 'Q&A "chart"', { ...image, languageId: 'html' });
    assert.equal(applyEdit(withAlt, a.edit), '<img src="../img/chart.png" alt="Q&amp;A &quot;chart&quot;">');
    const without = '<img src="../img/chart.png">';
    const b = altTextEdit(without, 3, 'chart', { ...image, languageId: 'html' });
    assert.ok(b.replaced);
    assert.equal(applyEdit(without, b.edit), '<img alt="chart" src="../img/chart.png">');
  });

  test('inserts a new reference in the document language when the cursor is elsewhere', () => {
    const text = 'Text.\n';
    const md = altTextEdit(text, 5, 'a chart', image);
    assert.ok(!md.replaced);
    assert.equal(applyEdit(text, md.edit), 'Text.![a chart](../img/chart.png)\n');
    const html = altTextEdit(text, 5, 'a "chart"', { ...image, languageId: 'html' });
    assert.equal(applyEdit(text, html.edit), 'Text.<img src="../img/chart.png" alt="a &quot;chart&quot;">\n');
  });

  test('a reference to another image is kept intact: the new one goes after it', () => {
    const text = '![other](other.png) end';
    const { edit, replaced } = altTextEdit(text, 3, 'chart', image);
    assert.ok(!replaced);
    assert.equal(applyEdit(text, edit), '![other](other.png)![chart](../img/chart.png) end');
  });

  test('new src: relative with / separators, spaces and parentheses encoded', () => {
    const src = referenceSrc(path.join(path.sep, 'ws', 'img', 'my chart (1).png'), DOC);
    assert.equal(src, '../img/my%20chart%20%281%29.png');
    assert.ok(referencePointsAt({ src }, path.join(path.sep, 'ws', 'img', 'my chart (1).png'), DOC), 'the new reference resolves to the image');
  });
});
