// runLifecycle with a scripted RunDriver: the order of the phases, what a failure leaves on the host
// depending on where the run stood, resuming, polling with backoff, and abort at any wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLifecycle, type LifecycleOptions } from '../../training/launcher/run-lifecycle';
import type { LauncherSideState, RunDriver, RunStep, StepState } from '../../training/launcher/run-driver';
import type { Attempt } from '../../training/launcher/backoff';

interface Script {
  failIn?: 'provision' | 'deployCode' | 'createRun:init' | 'createRun:upload' | 'start' | 'release';
  /** Answers of each step's poll, in order ('fail' throws as a host-reported failure). */
  polls?: Array<Attempt<void>['kind'] | 'fail'>;
  states?: StepState[];
  noPoll?: boolean;
}

class FakeDriver implements RunDriver {
  readonly label = 'fake host';
  readonly calls: string[] = [];
  constructor(private readonly script: Script = {}) {}

  private call(name: string): void {
    this.calls.push(name);
    if (this.script.failIn === name) throw new Error(`${name} broke`);
  }

  async provision(): Promise<void> {
    this.call('provision');
  }
  async deployCode(): Promise<void> {
    this.call('deployCode');
  }
  async createRun(onState: (state: LauncherSideState) => void): Promise<void> {
    this.call('createRun:init');
    onState('preparing');
    onState('uploading');
    this.call('createRun:upload');
  }
  steps(): readonly RunStep[] {
    return ['one', 'two'].map((name, i) => {
      const polls = [...(this.script.polls ?? ['done'])];
      const step: RunStep = {
        label: name,
        state: async () => this.script.states?.[i] ?? 'not-started',
        start: async () => {
          this.call('start');
          this.calls.push(`started ${name}`);
        },
        stop: async (reason) => void this.calls.push(`stop ${name}: ${reason}`),
        lostContactError: (downMs) => new Error(`${name}: no answer for ${downMs} ms`),
      };
      if (!this.script.noPoll) {
        step.poll = async () => {
          const next = polls.shift() ?? 'done';
          this.calls.push(`poll ${name}: ${next}`);
          if (next === 'fail') throw new Error(`${name} failed on the host`);
          return next === 'lost' ? { kind: 'lost', reason: 'no connection', progressed: false } : next === 'pending' ? { kind: 'pending' } : { kind: 'done', value: undefined };
        };
      }
      return step;
    });
  }
  async markFailed(reason: string): Promise<void> {
    this.calls.push(`markFailed: ${reason}`);
  }
  async release(failure: { error: unknown } | null): Promise<void> {
    this.calls.push(`release (${failure ? (failure.error as Error).message : 'ok'})`);
    if (this.script.failIn === 'release') throw new Error('release broke');
  }
}

const fast: LifecycleOptions<RunStep>['polling'] = { initialDelayMs: 1, maxDelayMs: 2, giveUpAfterMs: 60_000 };

test('provision → code → run folder → each step started and waited for → release', async () => {
  const driver = new FakeDriver({ polls: ['pending', 'done'] });
  const states: string[] = [];
  const steps: string[] = [];
  await runLifecycle(driver, { polling: fast, onState: (s) => states.push(s), onStep: (s) => steps.push(s.label) });
  assert.deepEqual(driver.calls, [
    'provision', 'deployCode', 'createRun:init', 'createRun:upload',
    'start', 'started one', 'poll one: pending', 'poll one: done',
    'start', 'started two', 'poll two: pending', 'poll two: done',
    'release (ok)',
  ]);
  assert.deepEqual(states, ['preparing', 'uploading']);
  assert.deepEqual(steps, ['one', 'two']);
});

test('a step without poll runs on by itself: the lifecycle ends once it started', async () => {
  const driver = new FakeDriver({ noPoll: true });
  await runLifecycle(driver);
  assert.deepEqual(driver.calls.filter((c) => c.startsWith('started')), ['started one', 'started two']);
});

test('a host that never got ready leaves nothing to release', async () => {
  const driver = new FakeDriver({ failIn: 'provision' });
  await assert.rejects(runLifecycle(driver), /provision broke/);
  assert.deepEqual(driver.calls, ['provision']);
});

test('a failure before the run folder exists marks nothing; after it, the run is marked failed', async () => {
  const early = new FakeDriver({ failIn: 'createRun:init' });
  await assert.rejects(runLifecycle(early), /createRun:init broke/);
  assert.deepEqual(early.calls, ['provision', 'deployCode', 'createRun:init', 'release (createRun:init broke)']);

  const late = new FakeDriver({ failIn: 'createRun:upload' });
  await assert.rejects(runLifecycle(late), /createRun:upload broke/);
  assert.deepEqual(late.calls.slice(-2), ['markFailed: createRun:upload broke', 'release (createRun:upload broke)']);
});

test('a step that fails to start or fails on the host is stopped; release still runs; the first failure wins', async () => {
  const notStarted = new FakeDriver({ failIn: 'start' });
  await assert.rejects(runLifecycle(notStarted), /start broke/);
  assert.deepEqual(notStarted.calls.slice(-2), ['stop one: start broke', 'release (start broke)']);

  const failed = new FakeDriver({ polls: ['pending', 'fail'], failIn: 'release' });
  await assert.rejects(runLifecycle(failed, { polling: fast }), /one failed on the host/);
  assert.deepEqual(failed.calls.slice(-2), ['stop one: one failed on the host', 'release (one failed on the host)']);
  assert.equal(failed.calls.includes('started two'), false, 'nothing after it starts');
});

test('a host that stops answering is asked again with backoff, then left running (a resume can pick it up)', async () => {
  const flaky = new FakeDriver({ polls: ['lost', 'lost', 'done'] });
  const retries: string[] = [];
  await runLifecycle(flaky, { polling: fast, onRetry: (step, n) => retries.push(`${step.label} ${n}`) });
  assert.deepEqual(retries, ['one 1', 'one 2', 'two 1', 'two 2'], 'each step counts its own retries');

  const gone = new FakeDriver({ polls: Array(1000).fill('lost') });
  await assert.rejects(runLifecycle(gone, { polling: { initialDelayMs: 5, maxDelayMs: 5, giveUpAfterMs: 50 } }), /one: no answer for \d+ ms/);
  assert.equal(gone.calls.some((c) => c.startsWith('stop')), false, 'not stopped: it may still run');
  assert.match(gone.calls.at(-1)!, /^release \(one: no answer for \d+ ms\)$/);
});

test('resuming skips the run folder and ended steps, waits for a running one without starting it', async () => {
  const driver = new FakeDriver({ states: ['ok', 'running'] });
  await runLifecycle(driver, { resume: true, polling: fast });
  assert.deepEqual(driver.calls, ['provision', 'deployCode', 'poll two: done', 'release (ok)']);

  const failedEarlier = new FakeDriver({ states: ['failed'] });
  await assert.rejects(runLifecycle(failedEarlier, { resume: true }), /one failed on fake host .*failed earlier/);
  assert.equal(failedEarlier.calls.some((c) => c.startsWith('stop') || c.startsWith('markFailed')), false);
});

test('an abort while a step is polled with backoff ends the wait at once and stops the step', async () => {
  const driver = new FakeDriver({ polls: Array(1000).fill('lost') });
  const stop = new AbortController();
  const running = runLifecycle(driver, { signal: stop.signal, polling: { initialDelayMs: 60_000, maxDelayMs: 60_000, giveUpAfterMs: 600_000 } });
  setTimeout(() => stop.abort(new Error('cancelled by the user')), 20);
  const before = Date.now();
  await assert.rejects(running, /cancelled by the user/);
  assert.ok(Date.now() - before < 1000, `took ${Date.now() - before} ms`);
  assert.deepEqual(driver.calls.slice(-2), ['stop one: cancelled by the user', 'release (cancelled by the user)']);
});

test('an abort as a step begins starts nothing, and stops that step', async () => {
  const driver = new FakeDriver();
  const stop = new AbortController();
  await assert.rejects(
    runLifecycle(driver, { signal: stop.signal, polling: fast, onStep: (s) => s.label === 'two' && stop.abort(new Error('cancelled by the user')) }),
    /cancelled by the user/,
  );
  assert.equal(driver.calls.includes('started two'), false);
  assert.deepEqual(driver.calls.slice(-2), ['stop two: cancelled by the user', 'release (cancelled by the user)']);
});
