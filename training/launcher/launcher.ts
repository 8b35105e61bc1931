// Submits, follows, cancels and rediscovers fine-tuning runs on remote hosts. Everything about a
// run lives in its folder on the host (training/PROTOCOL.md); a Launcher only remembers
// RunRecords, so a new instance (or a reloaded VS Code) finds and tails the same runs again.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RemoteTransport } from './transport';
import { isTerminal, type HostTarget, type RunRecord, type RunSpec, type RunState, type RunStatus, type TailHandlers, type TailPosition } from './types';
import { createTransport } from './transport-factory';
import { ensureCodeBundle, mkdirRemote, readCodeBundle, type CodeBundle } from './code-bundle';
import { listEntryFromWire, metricFromWire, specToWire, statusFromWire, isTrainingTask } from './wire';
import {
  AuthFailedError,
  HostKeyChangedError,
  HostKeyUnknownError,
  LauncherError,
  LauncherInputError,
  RemoteCommandError,
  TailGaveUpError,
  UnsafeWordError,
} from './errors';

export interface ReconnectOptions {
  /** First wait after a drop; doubles per failed attempt up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up (TailGaveUpError) after being disconnected this long. */
  giveUpAfterMs: number;
  /** A stream silent this long (heartbeats come every 5 s) counts as dropped. */
  stallMs: number;
}

export interface LauncherOptions {
  /** Run folders and code live under this folder of the host's home. */
  remoteRoot?: string;
  /** Interpreter that runs control.py on the host (standard library only). */
  controlPython?: string;
  /** Local training/remote folder to upload; defaults to the one next to this file. */
  codeDir?: string;
  /** How targets are reached; defaults to the registry in transport-factory.ts. */
  transportFactory?: (target: HostTarget) => RemoteTransport;
  reconnect?: Partial<ReconnectOptions>;
}

/** A run found on a host: its record plus what the host last said about it. */
export interface RunSummary extends RunRecord {
  state: RunState;
  updatedAt: string;
}

export interface TailOptions {
  /** Continue after what was already shown (offsets from an earlier tail); default: from the start. */
  from?: TailPosition;
  signal?: AbortSignal;
  /** Called after each delivered line with the offsets to resume from. */
  onPosition?(position: TailPosition): void;
}

export type SubmitStateHandler = (state: RunState, record: RunRecord) => void;

const RUN_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const CHECKPOINT = /^(final|step-\d+)$/;
const DEFAULT_RECONNECT: ReconnectOptions = { initialDelayMs: 500, maxDelayMs: 10_000, giveUpAfterMs: 5 * 60_000, stallMs: 20_000 };

export class Launcher {
  private readonly remoteRoot: string;
  private readonly controlPython: string;
  private readonly codeDir: string;
  private readonly factory: (target: HostTarget) => RemoteTransport;
  private readonly reconnect: ReconnectOptions;
  private readonly transports = new Map<string, RemoteTransport>();
  private readonly codeOnHost = new Map<string, Promise<string>>();
  private bundle: CodeBundle | null = null;

  constructor(options: LauncherOptions = {}) {
    this.remoteRoot = options.remoteRoot ?? '.pix2struct';
    this.controlPython = options.controlPython ?? 'python3';
    this.codeDir = options.codeDir ?? path.resolve(__dirname, '../remote');
    this.factory = options.transportFactory ?? createTransport;
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  /**
   * Creates the run folder on the host, uploads code and a local dataset, and starts the run.
   * `onState` hears the launcher-side states (preparing once the folder exists, uploading) with
   * the record, so a caller can start tailing before submit returns.
   */
  async submit(target: HostTarget, spec: RunSpec, onState?: SubmitStateHandler, options: { signal?: AbortSignal } = {}): Promise<RunRecord> {
    const { signal } = options;
    validateSpec(spec);
    const localDataset = spec.dataset.location === 'local' ? path.resolve(spec.dataset.path) : null;
    if (localDataset && !fs.existsSync(localDataset)) throw new LauncherInputError(`The dataset ${localDataset} does not exist on this machine.`);
    const uploadName = localDataset && fs.statSync(localDataset).isFile() ? `upload/dataset/${path.basename(localDataset)}` : 'upload/dataset';
    const id = newRunId();
    const record: RunRecord = { id, name: spec.name, task: spec.task, target, remoteDir: `${this.remoteRoot}/runs/${id}`, createdAt: new Date().toISOString() };

    const transport = this.transport(target);
    const code = await this.ensureCode(target, signal);
    const wireSpec = specToWire(spec, localDataset ? uploadName : spec.dataset.path, target);
    await this.control(transport, code, ['init', record.remoteDir], { stdin: JSON.stringify(wireSpec), signal });
    onState?.('preparing', record);
    try {
      await this.control(transport, code, ['set-state', record.remoteDir, 'uploading'], { stdin: localDataset ? 'uploading the dataset' : 'nothing to upload', signal });
      onState?.('uploading', record);
      if (localDataset) {
        const dest = `${record.remoteDir}/upload/dataset`;
        await mkdirRemote(transport, dest, signal);
        await transport.upload(localDataset, dest, { signal });
      }
      await this.control(transport, code, ['start', record.remoteDir], { signal });
    } catch (e) {
      // Leave the run in a terminal state the user can see, with the reason.
      const reason = e instanceof Error ? e.message : String(e);
      await this.control(transport, code, ['set-state', record.remoteDir, 'failed'], { stdin: `submit failed: ${reason}` }).catch(() => undefined);
      throw e;
    }
    return record;
  }

  async status(record: RunRecord, options: { signal?: AbortSignal } = {}): Promise<RunStatus> {
    const transport = this.transport(record.target);
    const code = await this.ensureCode(record.target, options.signal);
    return statusFromWire(await this.control(transport, code, ['status', checkRunDir(record)], { signal: options.signal }));
  }

  /**
   * Streams the run's log, metrics and status until it ends, reconnecting after drops from the
   * last delivered offsets (nothing lost, nothing repeated). Resolves with the terminal status.
   */
  async tail(record: RunRecord, handlers: TailHandlers, options: TailOptions = {}): Promise<RunStatus> {
    const { signal } = options;
    const runDir = checkRunDir(record);
    const transport = this.transport(record.target);
    const position: TailPosition = { logOffset: options.from?.logOffset ?? 0, metricsOffset: options.from?.metricsOffset ?? 0 };
    let attempt = 0;
    let downSince: number | null = null;
    for (;;) {
      signal?.throwIfAborted();
      let reason: string;
      let progressed = false;
      try {
        const code = await this.ensureCode(record.target, signal);
        const outcome = await this.tailOnce(transport, code, runDir, position, handlers, options, () => (progressed = true));
        if (outcome.terminal) return outcome.terminal;
        reason = outcome.reason;
      } catch (e) {
        if (signal?.aborted) throw e;
        if (e instanceof HostKeyChangedError || e instanceof HostKeyUnknownError || e instanceof AuthFailedError || e instanceof UnsafeWordError || e instanceof RemoteCommandError) throw e;
        reason = e instanceof Error ? e.message : String(e);
        this.codeOnHost.delete(targetKey(record.target)); // probe again after a failure
      }
      if (progressed) {
        attempt = 0;
        downSince = null;
      }
      downSince ??= Date.now();
      const down = Date.now() - downSince;
      if (down >= this.reconnect.giveUpAfterMs) throw new TailGaveUpError(transport.label, record.id, down, reason);
      attempt += 1;
      handlers.onReconnect?.(attempt, reason);
      const delay = Math.min(this.reconnect.initialDelayMs * 2 ** (attempt - 1), this.reconnect.maxDelayMs, Math.max(0, this.reconnect.giveUpAfterMs - down));
      await sleep(delay, signal);
    }
  }

  /** Stops the run's whole process group on the host; resolves with the resulting status. */
  async cancel(record: RunRecord, options: { signal?: AbortSignal } = {}): Promise<RunStatus> {
    const transport = this.transport(record.target);
    const code = await this.ensureCode(record.target, options.signal);
    const out = await this.control(transport, code, ['cancel', checkRunDir(record)], { signal: options.signal });
    if (out && typeof out === 'object' && 'state' in out) return statusFromWire(out);
    return this.status(record, options);
  }

  /** Every run folder on the host, newest first. */
  async listRuns(target: HostTarget, options: { signal?: AbortSignal } = {}): Promise<RunSummary[]> {
    const transport = this.transport(target);
    const code = await this.ensureCode(target, options.signal);
    const out = await this.control(transport, code, ['list', `${this.remoteRoot}/runs`], { signal: options.signal });
    if (!Array.isArray(out)) throw new RemoteCommandError(transport.label, 'control.py list', 0, '', `unexpected output ${JSON.stringify(out).slice(0, 200)}`);
    return out
      .map(listEntryFromWire)
      .filter((e): e is NonNullable<typeof e> => e !== null && RUN_ID.test(e.id))
      .map((e) => ({ id: e.id, name: e.name, task: e.task, target, remoteDir: `${this.remoteRoot}/runs/${e.id}`, createdAt: createdAtFromId(e.id) ?? e.updatedAt, state: e.state, updatedAt: e.updatedAt }))
      .sort((a, b) => b.id.localeCompare(a.id));
  }

  /**
   * Copies a checkpoint folder ('final' or 'step-N', also accepted as 'checkpoints/step-N' from
   * RunStatus.checkpoints) into `localDir` (created if missing) and returns its absolute path,
   * ready for model-runtime's openModel.
   */
  async fetchCheckpoint(record: RunRecord, localDir: string, which = 'final', options: { signal?: AbortSignal } = {}): Promise<string> {
    const name = which.replace(/^checkpoints\//, '');
    if (!CHECKPOINT.test(name)) throw new LauncherInputError(`Unknown checkpoint ${JSON.stringify(which)}: expected "final" or "step-<N>".`);
    const transport = this.transport(record.target);
    const remote = `${checkRunDir(record)}/checkpoints/${name}`;
    const probe = await transport.exec(['test', '-f', `${remote}/config.json`], { signal: options.signal });
    if (probe.code !== 0) throw new LauncherInputError(`Run ${record.id} has no checkpoint ${name} on ${transport.label} (yet).`);
    const dest = path.resolve(localDir);
    fs.mkdirSync(dest, { recursive: true });
    await transport.download(remote, dest, options);
    return dest;
  }

  /** Closes every connection this launcher opened. */
  async dispose(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    this.codeOnHost.clear();
    await Promise.all(all.map((t) => t.dispose().catch(() => undefined)));
  }

  private transport(target: HostTarget): RemoteTransport {
    const key = targetKey(target);
    let t = this.transports.get(key);
    if (!t) {
      t = this.factory(target);
      this.transports.set(key, t);
    }
    return t;
  }

  private ensureCode(target: HostTarget, signal?: AbortSignal): Promise<string> {
    const key = targetKey(target);
    let p = this.codeOnHost.get(key);
    if (!p) {
      this.bundle ??= readCodeBundle(this.codeDir);
      p = ensureCodeBundle(this.transport(target), this.bundle, this.remoteRoot, signal);
      p.catch(() => this.codeOnHost.delete(key));
      this.codeOnHost.set(key, p);
    }
    return p;
  }

  /** Runs a control.py command and returns its parsed JSON output. */
  private async control(transport: RemoteTransport, codeDir: string, args: string[], options: { stdin?: string; signal?: AbortSignal }): Promise<unknown> {
    const r = await transport.exec([this.controlPython, `${codeDir}/control.py`, ...args], options);
    const parsed = parseJson(r.stdout.trim().split('\n').pop() ?? '');
    if (r.code === 127) {
      throw new RemoteCommandError(transport.label, `control.py ${args[0]}`, r.code, r.stderr, `${this.controlPython} was not found on the host; install Python 3.8 or newer there`);
    }
    if (r.code !== 0) {
      const detail = parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : undefined;
      throw new RemoteCommandError(transport.label, `control.py ${args[0]}`, r.code, r.stderr, detail);
    }
    if (parsed === undefined) throw new RemoteCommandError(transport.label, `control.py ${args[0]}`, r.code, r.stderr, `printed no JSON: ${r.stdout.slice(0, 200)}`);
    return parsed;
  }

  /** One `control.py tail` connection. Resolves when it ends; terminal is set only for a clean end. */
  private tailOnce(
    transport: RemoteTransport,
    codeDir: string,
    runDir: string,
    position: TailPosition,
    handlers: TailHandlers,
    options: TailOptions,
    onProgress: () => void,
  ): Promise<{ terminal?: RunStatus; reason: string }> {
    const attempt = new AbortController();
    const stop = () => attempt.abort(options.signal?.reason);
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });
    let stalled = false;
    let watchdog: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        attempt.abort(new LauncherError('stream stalled'));
      }, this.reconnect.stallMs);
    };
    arm();
    let pending = '';
    let terminal: RunStatus | undefined;
    let remoteError: string | undefined;
    const onLine = (line: string) => {
      const msg = parseJson(line) as Record<string, unknown> | undefined;
      if (!msg || typeof msg !== 'object') return;
      if ('log' in msg && typeof msg.log === 'string') {
        if (typeof msg.log_offset === 'number') position.logOffset = msg.log_offset;
        handlers.onLog?.(msg.log);
      } else if ('metric' in msg) {
        if (typeof msg.metrics_offset === 'number') position.metricsOffset = msg.metrics_offset;
        handlers.onMetric?.(metricFromWire(msg.metric));
      } else if ('status' in msg) {
        const status = statusFromWire(msg.status);
        if (isTerminal(status.state)) terminal = status;
        handlers.onStatus?.(status);
      } else if ('error' in msg) {
        remoteError = String(msg.error);
        return;
      }
      options.onPosition?.({ ...position });
    };
    const onStdout = (chunk: Buffer) => {
      arm();
      onProgress();
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim()) onLine(line);
      }
    };
    const args = [this.controlPython, `${codeDir}/control.py`, 'tail', runDir, String(position.logOffset), String(position.metricsOffset)];
    return transport
      .exec(args, { onStdout, signal: attempt.signal })
      .then(
        (r) => {
          if (remoteError !== undefined) throw new RemoteCommandError(transport.label, 'control.py tail', r.code, r.stderr, remoteError);
          // A partial last line is dropped: its offset was never taken, so the next attempt resends it.
          if (terminal && r.code === 0) return { terminal, reason: 'finished' };
          return { reason: r.code === 0 ? 'the stream ended before the run did' : `tail exited with ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
        },
        (e) => {
          if (stalled && !options.signal?.aborted) return { reason: `no data for ${Math.round(this.reconnect.stallMs / 1000)} s` };
          throw e;
        },
      )
      .finally(() => {
        clearTimeout(watchdog);
        options.signal?.removeEventListener('abort', stop);
      });
  }
}

function validateSpec(spec: RunSpec): void {
  if (typeof spec.name !== 'string' || !spec.name.trim()) throw new LauncherInputError('The run needs a name.');
  if (!isTrainingTask(spec.task)) throw new LauncherInputError(`Unknown task ${JSON.stringify(spec.task)}.`);
  if (!isTrainingTask(spec.dataset?.format)) throw new LauncherInputError(`Unknown dataset format ${JSON.stringify(spec.dataset?.format)}.`);
  if (typeof spec.dataset.path !== 'string' || !spec.dataset.path) throw new LauncherInputError('The dataset needs a path.');
  for (const k of ['steps', 'batchSize', 'gradAccum'] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] < 1) throw new LauncherInputError(`${k} must be a positive whole number (got ${spec[k]}).`);
  }
}

function checkRunDir(record: RunRecord): string {
  if (!RUN_ID.test(record.id)) throw new LauncherInputError(`${JSON.stringify(record.id)} is not a run id.`);
  if (!/^[A-Za-z0-9_./-]+$/.test(record.remoteDir) || !record.remoteDir.endsWith(`/runs/${record.id}`)) {
    throw new LauncherInputError(`${JSON.stringify(record.remoteDir)} is not a run folder.`);
  }
  return record.remoteDir;
}

const targetKey = (target: HostTarget) => JSON.stringify(target);

export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-24T21:15:00.000Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${crypto.randomBytes(3).toString('hex')}`;
}

function createdAtFromId(id: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
