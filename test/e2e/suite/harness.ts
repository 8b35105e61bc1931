// A tiny mocha-style test harness for the extension host (mocha is not a dependency of this repo).
// Test files call describe/it/before/after at load time; run() executes everything sequentially.

type Fn = () => unknown | Promise<unknown>;

interface TestCase {
  title: string;
  fn: Fn;
  timeoutMs: number;
}

interface Suite {
  title: string;
  tests: TestCase[];
  before: Fn[];
  after: Fn[];
}

export interface TestResult {
  suite: string;
  title: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}

const suites: Suite[] = [];
let current: Suite | undefined;
const DEFAULT_TIMEOUT_MS = 120_000;

function suiteFor(what: string): Suite {
  if (!current) throw new Error(`${what} must be called inside describe()`);
  return current;
}

export function describe(title: string, body: () => void): void {
  const suite: Suite = { title, tests: [], before: [], after: [] };
  suites.push(suite);
  const outer = current;
  current = suite;
  try {
    body();
  } finally {
    current = outer;
  }
}

export function it(title: string, fn: Fn, timeoutMs = DEFAULT_TIMEOUT_MS): void {
  suiteFor('it').tests.push({ title, fn, timeoutMs });
}

export function before(fn: Fn): void {
  suiteFor('before').before.push(fn);
}

export function after(fn: Fn): void {
  suiteFor('after').after.push(fn);
}

function withTimeout(fn: Fn, ms: number, label: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve().then(fn),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

/** Runs every registered suite in order; logs mocha-like lines through `log`. */
export async function runAll(log: (line: string) => void): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const suite of suites) {
    log(`  ${suite.title}`);
    let hookError: string | undefined;
    for (const hook of suite.before) {
      try {
        await withTimeout(hook, DEFAULT_TIMEOUT_MS, `"before" hook of ${suite.title}`);
      } catch (err) {
        hookError = describeError(err);
        break;
      }
    }
    for (const test of suite.tests) {
      const start = Date.now();
      let error = hookError ? `before hook failed: ${hookError}` : undefined;
      if (!error) {
        try {
          await withTimeout(test.fn, test.timeoutMs, `"${test.title}"`);
        } catch (err) {
          error = describeError(err);
        }
      }
      const durationMs = Date.now() - start;
      results.push({ suite: suite.title, title: test.title, ok: !error, durationMs, ...(error ? { error } : {}) });
      log(`    ${error ? 'FAIL' : 'ok  '} ${test.title} (${durationMs} ms)`);
      if (error) log(error.split('\n').map((l) => `        ${l}`).join('\n'));
    }
    for (const hook of suite.after) {
      try {
        await withTimeout(hook, DEFAULT_TIMEOUT_MS, `"after" hook of ${suite.title}`);
      } catch (err) {
        log(`    after hook of ${suite.title} failed: ${describeError(err)}`);
      }
    }
  }
  return results;
}
