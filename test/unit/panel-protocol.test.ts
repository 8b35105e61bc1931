import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFromWebview, rejectedRequestId } from '../../src/protocol/panel';

describe('panel requests are validated (crop, alt text, re-open)', () => {
  const box = { x0: 10, y0: 20, x1: 110, y1: 70 };

  test('well-formed requests pass through unchanged', () => {
    assert.deepEqual(parseFromWebview({ type: 'crop', requestId: 3, imageKey: 'img-1', box }), { type: 'crop', requestId: 3, imageKey: 'img-1', box });
    assert.deepEqual(parseFromWebview({ type: 'insertAltText', requestId: 4, imageKey: 'img-2', text: 'a chart' }), {
      type: 'insertAltText',
      requestId: 4,
      imageKey: 'img-2',
      text: 'a chart',
    });
    assert.deepEqual(parseFromWebview({ type: 'selectImage', imageKey: 'img-2' }), { type: 'selectImage', imageKey: 'img-2' });
  });

  test('malformed requests are dropped, yet still name their requestId for the error reply', () => {
    const bad = [
      { type: 'crop', requestId: 1, imageKey: 'img-1', box: { x0: 50, y0: 0, x1: 10, y1: 5 } },
      { type: 'crop', requestId: 1, imageKey: '../etc/passwd', box },
      { type: 'crop', requestId: 1, imageKey: 'img-1', box: { ...box, x1: 1.5 } },
      { type: 'insertAltText', requestId: 1, imageKey: 'img-1', text: '   ' },
      { type: 'insertAltText', requestId: 1, imageKey: 'img-1', text: 'x'.repeat(10_001) },
      { type: 'insertAltText', requestId: 1, imageKey: 'img-1', text: 42 },
    ];
    for (const raw of bad) {
      assert.equal(parseFromWebview(raw), null, JSON.stringify(raw).slice(0, 80));
      assert.equal(rejectedRequestId(raw), 1);
    }
    assert.equal(parseFromWebview({ type: 'selectImage', imageKey: 7 }), null);
    assert.equal(rejectedRequestId({ type: 'crop', requestId: -1 }), undefined, 'no usable id, no reply');
    assert.equal(rejectedRequestId({ type: 'selectImage', requestId: 1 }), undefined, 'not a request');
  });
});

describe('Continue requests are validated', () => {
  test('a request id and the run to continue pass; anything else is dropped with its one error reply', () => {
    assert.deepEqual(parseFromWebview({ type: 'continue', requestId: 5, runId: 12 }), { type: 'continue', requestId: 5, runId: 12 });
    for (const runId of [undefined, -1, 1.5, '12', 2 ** 60]) {
      const raw = { type: 'continue', requestId: 5, runId };
      assert.equal(parseFromWebview(raw), null, JSON.stringify(raw));
      assert.equal(rejectedRequestId(raw), 5, 'the panel still gets its reply');
    }
    assert.equal(parseFromWebview({ type: 'continue', requestId: 'x', runId: 12 }), null);
    assert.equal(rejectedRequestId({ type: 'continue', requestId: 'x', runId: 12 }), undefined, 'no usable id, no reply');
  });
});
