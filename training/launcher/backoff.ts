// Every wait of the launcher: the one abortable sleep, and the one retry loop that polls a remote
// answer or reconnects a stream with exponential backoff. An aborted signal ends any wait at once.

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface BackoffPolicy {
  /** First wait after a failed attempt; doubles per failed attempt up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up after this long without an answer. */
  giveUpAfterMs: number;
}

/** The wait before retry `attempt` (from 1), never past the moment the loop would give up. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, downMs: number): number {
  return Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs, Math.max(0, policy.giveUpAfterMs - downMs));
}

/** What one attempt of a retry loop came to. */
export type Attempt<T> =
  /** Finished: the loop returns the value. */
  | { kind: 'done'; value: T }
  /** The host answered and the thing is not finished yet: ask again at once (the host long-polls). */
  | { kind: 'pending' }
  /** No (complete) answer: back off and try again; `progressed` when some answer came before the loss. */
  | { kind: 'lost'; reason: string; progressed: boolean };

export interface RetryOptions {
  policy: BackoffPolicy;
  signal?: AbortSignal;
  /** Before each wait: the retry's number (from 1, reset by an answer) and why the last attempt failed. */
  onRetry?(attempt: number, reason: string): void;
  /** The error to throw after `policy.giveUpAfterMs` without an answer. */
  giveUp(downMs: number, lastReason: string): Error;
}

/**
 * Runs `attempt` until it is done. A lost attempt is retried with backoff; an answer (pending, or
 * a lost attempt that progressed first) resets the backoff and the time counted towards giving up,
 * which starts at the first loss after the last answer. Errors thrown by `attempt` end the loop.
 */
export async function retryWithBackoff<T>(attempt: () => Promise<Attempt<T>>, options: RetryOptions): Promise<T> {
  const { policy, signal } = options;
  let failures = 0;
  let downSince: number | null = null;
  for (;;) {
    signal?.throwIfAborted();
    const outcome = await attempt();
    if (outcome.kind === 'done') return outcome.value;
    if (outcome.kind === 'pending' || outcome.progressed) {
      failures = 0;
      downSince = null;
    }
    if (outcome.kind === 'pending') continue;
    downSince ??= Date.now();
    const down = Date.now() - downSince;
    if (down >= policy.giveUpAfterMs) throw options.giveUp(down, outcome.reason);
    failures += 1;
    options.onRetry?.(failures, outcome.reason);
    await sleep(backoffDelay(failures, policy, down), signal);
  }
}
