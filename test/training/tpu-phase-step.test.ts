// A TPU pipeline phase as the lifecycle sees it, over a scripted VM: what each `wait` answer means,
// that a VM which stops answering is retried and an abort ends that wait at once (the phase is
// then cancelled on every worker it runs on), and the command lines it sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecOptions, ExecResult } from '../../training/launcher/transport';
import type { TpuTransport, TpuWorker } from '../../training/launcher/tpu-transport';
import { TpuPhaseStep, type TpuPhase } from '../../training/launcher/tpu-phase-step';
import { runLifecycle } from '../../training/launcher/run-lifecycle';
import type { RunDriver } from '../../training/launcher/run-driver';
import { RemoteCommandError } from '../../training/launcher/errors';

/** Stands in for gcloud's ssh to one worker (or all): answers `wait` from a script, records the rest. */
function scriptedVm(waits: ExecResult[]) {
  const sent: string[] = [];
  const transport = (worker: TpuWorker) =>
    ({
      worker,
      label: `TPU VM fake (worker ${worker})`,
      exec: async (argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> => {
        options.signal?.throwIfAborted();
        sent.push(`${worker}: ${argv.slice(5).join(' ')}`);
        if (argv[5] === 'wait') return waits.shift() ?? answer({ state: 'ok' });
        return answer({ started: true });
      },
    }) as unknown as TpuTransport;
  const context = {
    worker0: transport(0), everyWorker: transport('all'), code: { python: 'python3', dir: '.pix2struct/code/abc' },
    remoteDir: '.pix2struct/runs/r-1', dryRun: true, waitSeconds: 1, onProgress: () => undefined,
  };
  return { sent, step: (phase: TpuPhase) => new TpuPhaseStep(phase, context) };
}

const answer = (json: unknown, code = 0): ExecResult => ({ code, stdout: `${JSON.stringify(json)}\n`, stderr: '' });
const unreachable: ExecResult = { code: 255, stdout: '', stderr: 'ssh: connect to host 10.0.0.2 port 22: Connection refused' };

const driverOf = (step: TpuPhaseStep): RunDriver<TpuPhaseStep> => ({
  label: 'TPU VM fake', deployCode: async () => undefined, createRun: async () => undefined, steps: () => [step], markFailed: async () => undefined,
});

test('each wait answer: running asks again, ok ends the phase, failed and not-started fail it', async () => {
  const vm = scriptedVm([answer({ state: 'running' }), answer({ state: 'ok' }), answer({ state: 'failed', message: 'bucket not found' }), answer({ state: 'not-started' })]);
  const train = vm.step('train');
  assert.deepEqual(await train.poll(), { kind: 'pending' });
  assert.deepEqual(await train.poll(), { kind: 'done', value: undefined });
  await assert.rejects(train.poll(), (e: Error) => e instanceof RemoteCommandError && /TPU train failed .*bucket not found/.test(e.message));
  await assert.rejects(train.poll(), /never started on worker 0/);
  assert.deepEqual(vm.sent, Array(4).fill('0: wait train .pix2struct/runs/r-1 --timeout=1'));
});

test('install and train start on every worker; the other phases on worker 0', async () => {
  const vm = scriptedVm([]);
  for (const phase of ['install', 'preprocess', 'train', 'convert'] as const) await vm.step(phase).start();
  assert.deepEqual(vm.sent, [
    'all: start install .pix2struct/runs/r-1 --dry-run', '0: start preprocess .pix2struct/runs/r-1 --dry-run',
    'all: start train .pix2struct/runs/r-1 --dry-run', '0: start convert .pix2struct/runs/r-1 --dry-run',
  ]);
});

test('a VM that stops answering is asked again; after the give-up time the phase is left running, not cancelled', async () => {
  const vm = scriptedVm([unreachable, unreachable, answer({ state: 'ok' })]);
  const retries: number[] = [];
  await runLifecycle(driverOf(vm.step('train')), { polling: { initialDelayMs: 1, maxDelayMs: 1, giveUpAfterMs: 60_000 }, onRetry: (_, n) => retries.push(n) });
  assert.deepEqual(retries, [1, 2]);

  const gone = scriptedVm(Array(1000).fill(unreachable));
  await assert.rejects(
    runLifecycle(driverOf(gone.step('train')), { polling: { initialDelayMs: 5, maxDelayMs: 5, giveUpAfterMs: 50 } }),
    (e: Error) => e instanceof RemoteCommandError && /TPU train \(waiting\) failed .*exit 255.*may still be running/.test(e.message),
  );
  assert.equal(gone.sent.some((c) => c.includes('cancel')), false);
});

test('an abort while the VM is out of reach ends the wait at once and cancels the phase on every worker', async () => {
  const vm = scriptedVm(Array(1000).fill(unreachable));
  const stop = new AbortController();
  const running = runLifecycle(driverOf(vm.step('train')), {
    signal: stop.signal,
    // The old wait slept 2 s between tries whatever happened; with an hour here, only the abort can end it.
    polling: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000, giveUpAfterMs: 7_200_000 },
    onRetry: () => void setTimeout(() => stop.abort(new Error('cancelled by the user')), 20),
  });
  const before = Date.now();
  await assert.rejects(running, /cancelled by the user/);
  assert.ok(Date.now() - before < 1000, `took ${Date.now() - before} ms`);
  assert.deepEqual(vm.sent, ['all: start train .pix2struct/runs/r-1 --dry-run', '0: wait train .pix2struct/runs/r-1 --timeout=1', 'all: cancel train .pix2struct/runs/r-1']);
});
