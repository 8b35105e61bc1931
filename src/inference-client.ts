import { Worker } from 'node:worker_threads';
import type { FindElementRequest, FindElementResult } from './protocol/find-element';
import type { DescribeResult } from './protocol/describe-result';
import type { DescribeRequest, FromWorker, ToWorker } from './protocol/worker';

type Pending = {
  // The reply's result type follows the request's kind.
  resolve: (r: never) => void;
  reject: (e: Error & { code?: string }) => void;
  onToken?: (text: string | null, tokenId: number) => void;
  onProgress?: (scored: number, total: number) => void;
};

/**
 * The host's side of the inference worker: request ids, one reply per request, and every
 * pending request rejected if the worker dies, so no caller hangs. No vscode imports.
 */
export class InferenceClient {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly workerFile: string, private readonly log: (line: string) => void = () => undefined) {}

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(this.workerFile);
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.once('error', reject);
      const onReady = (m: FromWorker) => {
        if (m.kind === 'ready') {
          worker.off('message', onReady);
          resolve();
        }
      };
      worker.on('message', onReady);
    });
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(`inference worker crashed: ${err.message}`));
    worker.on('exit', (code) => {
      this.failAll(`inference worker exited (code ${code})`);
      this.worker = null;
      this.ready = null;
    });
    return this.ready;
  }

  private onMessage(m: FromWorker): void {
    if (m.kind === 'ready') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.kind === 'token') {
      p.onToken?.(m.text, m.tokenId);
      return;
    }
    if (m.kind === 'progress') {
      p.onProgress?.(m.scored, m.total);
      return;
    }
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result as never);
    else p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
  }

  private failAll(message: string): void {
    this.log(message);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error(message));
    }
  }

  /** Runs one request; `onToken` streams the decoded text so far. Returns the id for cancel(). */
  describe(request: Omit<DescribeRequest, 'kind' | 'id'>, onToken?: Pending['onToken']): { id: number; done: Promise<DescribeResult> } {
    const id = this.nextId++;
    const done = new Promise<DescribeResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onToken });
      this.start().then(
        () => this.post({ ...request, kind: 'describe', id }),
        (err: Error) => {
          this.pending.delete(id);
          reject(new Error(`inference worker failed to start: ${err.message}`));
        },
      );
    });
    return { id, done };
  }

  /**
   * Find Element: ranks candidate boxes (proposed from the pixels when none are given) for a
   * phrase with a RefExp checkpoint; `onProgress` reports candidates scored so far.
   */
  findElement(request: Omit<FindElementRequest, 'kind' | 'id'>, onProgress?: Pending['onProgress']): { id: number; done: Promise<FindElementResult> } {
    const id = this.nextId++;
    const done = new Promise<FindElementResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.start().then(
        () => this.post({ ...request, kind: 'findElement', id }),
        (err: Error) => {
          this.pending.delete(id);
          reject(new Error(`inference worker failed to start: ${err.message}`));
        },
      );
    });
    return { id, done };
  }

  cancel(id: number): void {
    if (this.pending.has(id)) this.post({ kind: 'cancel', id });
  }

  /** Frees the loaded model's memory (idle timeout); the next request loads it again. */
  unload(): void {
    if (this.worker) this.post({ kind: 'unload' });
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /**
   * Stops the worker without killing it mid-inference (which would abort the host process):
   * it cancels at the next decoding step, releases its sessions and exits; terminate() is
   * only the fallback after `graceMs`.
   */
  async dispose(graceMs = 10_000): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    this.failAll('the extension is shutting down');
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'shutdown' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
    if (await Promise.race([exited.then(() => false), timedOut])) await worker.terminate();
    clearTimeout(timer);
  }
}
