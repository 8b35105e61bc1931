// The one loop that drives a run on any backend (a RunDriver): provision the host, deploy the code,
// create the run, then start each step and wait for the ones that report back. It owns polling (with
// the shared backoff), abort, and what a failure leaves on the host, decided by where the run stood.
import { retryWithBackoff, type BackoffPolicy } from './backoff';
import { LauncherError, RemoteCommandError } from './errors';
import type { LauncherSideState, RunDriver, RunStep } from './run-driver';

export interface LifecycleOptions<S extends RunStep> {
  signal?: AbortSignal;
  /** Reattach to a run made earlier: no createRun; ended steps are skipped, a running one is waited for. */
  resume?: boolean;
  /** How a step that stops answering is asked again, and when to give up on it. */
  polling?: Partial<BackoffPolicy>;
  onState?(state: LauncherSideState): void;
  /** A step begins: about to start, or (resuming) about to be waited for again. */
  onStep?(step: S): void;
  /** No answer about a running step; asking again after a backoff. */
  onRetry?(step: S, attempt: number, reason: string): void;
}

/**
 * Where the run stands, which decides what a failure leaves behind:
 * - before-run: nothing on the host yet, nothing to undo;
 * - run-created: the folder exists but no step started: the run is marked failed;
 * - in-step: the step is stopped, unless the host stopped answering (it may still run; a resume finds it);
 * - between-steps: nothing of the run is running (also where a resumed run begins).
 */
type RunPosition<S> =
  | { at: 'before-run' }
  | { at: 'run-created' }
  | { at: 'in-step'; step: S; contact: 'answering' | 'lost' }
  | { at: 'between-steps' };

const DEFAULT_POLLING: BackoffPolicy = { initialDelayMs: 2000, maxDelayMs: 2000, giveUpAfterMs: 15 * 60_000 };

/** Resolves once every step has ended (or, for a step without poll, started); rejects with the first failure. */
export async function runLifecycle<S extends RunStep>(driver: RunDriver<S>, options: LifecycleOptions<S> = {}): Promise<void> {
  await driver.provision?.(options.signal);
  const run = new DrivenRun(driver, options);
  let failure: { error: unknown } | null = null;
  try {
    await run.drive();
  } catch (error) {
    failure = { error };
    await run.leaveBehind(error);
  }
  try {
    await driver.release?.(failure);
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

/** One pass of the lifecycle over a provisioned host, remembering where the run stands. */
class DrivenRun<S extends RunStep> {
  private position: RunPosition<S>;

  constructor(private readonly driver: RunDriver<S>, private readonly options: LifecycleOptions<S>) {
    this.position = options.resume ? { at: 'between-steps' } : { at: 'before-run' };
  }

  async drive(): Promise<void> {
    const { driver, options } = this;
    await driver.deployCode(options.signal);
    if (!options.resume) {
      await driver.createRun((state) => {
        if (state === 'preparing') this.position = { at: 'run-created' };
        options.onState?.(state);
      }, options.signal);
    }
    for (const step of driver.steps()) await this.driveStep(step);
  }

  /** What a failure leaves on the host, by where the run stood (see RunPosition); clean-up errors yield to the failure itself. */
  async leaveBehind(error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    const position = this.position;
    if (position.at === 'run-created') await this.driver.markFailed(reason).catch(() => undefined);
    if (position.at === 'in-step' && position.contact === 'answering') await position.step.stop(reason).catch(() => undefined);
  }

  private async driveStep(step: S): Promise<void> {
    const { signal } = this.options;
    const before = this.options.resume && step.state ? await step.state(signal) : 'not-started';
    if (before === 'ok') return;
    if (before === 'failed') throw new RemoteCommandError(this.driver.label, step.label, 1, '', 'it failed earlier; see the run log');
    const inStep: RunPosition<S> & { at: 'in-step' } = { at: 'in-step', step, contact: 'answering' };
    this.position = inStep;
    this.options.onStep?.(step);
    signal?.throwIfAborted();
    if (before === 'not-started') await step.start(signal);
    if (step.poll) await this.waitFor(step, () => (inStep.contact = 'lost'));
    this.position = { at: 'between-steps' };
  }

  /** Polls the step until it ends; a host that stops answering is asked again with backoff. */
  private waitFor(step: S, onLostContact: () => void): Promise<void> {
    const { driver, options } = this;
    return retryWithBackoff(() => step.poll!(options.signal), {
      policy: { ...DEFAULT_POLLING, ...options.polling },
      signal: options.signal,
      onRetry: (attempt, reason) => options.onRetry?.(step, attempt, reason),
      giveUp: (downMs, reason) => {
        onLostContact();
        return step.lostContactError?.(downMs, reason)
          ?? new LauncherError(`No answer from ${driver.label} about ${step.label} for ${Math.round(downMs / 1000)} s (last error: ${reason}); it may still be running there.`);
      },
    });
  }
}
