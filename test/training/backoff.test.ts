// The launcher's one sleep and retry loop: every wait ends as soon as the signal aborts, backoff
// doubles up to its cap, an answer resets it, and the loop gives up after the configured time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, retryWithBackoff, sleep, type Attempt } from '../../training/launcher/backoff';

test('sleep resolves after its time, and rejects at once with the reason when aborted', async () => {
  const started = Date.now();
  await sleep(20);
  assert.ok(Date.now() - started >= 15);
  const stop = new AbortController();
  const waiting = sleep(60_000, stop.signal);
  setTimeout(() => stop.abort(new Error('stopped by the user')), 10);
  const before = Date.now();
  await assert.rejects(waiting, /stopped by the user/);
  assert.ok(Date.now() - before < 1000);
  await assert.rejects(sleep(10, stop.signal), /stopped by the user/, 'an already aborted signal');
});

test('backoff doubles from the first delay up to the cap, and never waits past the give-up time', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1000, giveUpAfterMs: 10_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, 0)), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffDelay(6, policy, 9_800), 200);
  assert.equal(backoffDelay(6, policy, 20_000), 0);
});

test('retries lost attempts with backoff, asks again at once after an answer, and returns the result', async () => {
  const script: Attempt<string>[] = [
    { kind: 'lost', reason: 'dropped', progressed: false },
    { kind: 'lost', reason: 'dropped again', progressed: false },
    { kind: 'pending' },
    { kind: 'lost', reason: 'after an answer', progressed: false },
    { kind: 'done', value: 'finished' },
  ];
  const retries: string[] = [];
  const result = await retryWithBackoff(async () => script.shift()!, {
    policy: { initialDelayMs: 1, maxDelayMs: 4, giveUpAfterMs: 60_000 },
    onRetry: (attempt, reason) => retries.push(`${attempt}: ${reason}`),
    giveUp: () => new Error('gave up'),
  });
  assert.equal(result, 'finished');
  assert.deepEqual(retries, ['1: dropped', '2: dropped again', '1: after an answer']);
});

test('gives up with the caller\'s error after the configured time without an answer', async () => {
  const started = Date.now();
  await assert.rejects(
    retryWithBackoff(async () => ({ kind: 'lost', reason: 'refused', progressed: false }), {
      policy: { initialDelayMs: 10, maxDelayMs: 20, giveUpAfterMs: 150 },
      giveUp: (downMs, reason) => new Error(`no answer for ${downMs} ms: ${reason}`),
    }),
    /no answer for \d+ ms: refused/,
  );
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 1000, `took ${took} ms`);
});

test('an abort during a backoff wait ends the loop at once', async () => {
  const stop = new AbortController();
  let attempts = 0;
  const looping = retryWithBackoff(async () => {
    attempts += 1;
    return { kind: 'lost', reason: 'down', progressed: false };
  }, { policy: { initialDelayMs: 60_000, maxDelayMs: 60_000, giveUpAfterMs: 600_000 }, signal: stop.signal, giveUp: () => new Error('gave up') });
  setTimeout(() => stop.abort(new Error('cancelled by the user')), 20);
  const before = Date.now();
  await assert.rejects(looping, /cancelled by the user/);
  assert.ok(Date.now() - before < 1000);
  assert.equal(attempts, 1);
});
