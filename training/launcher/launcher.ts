// Submits, follows, cancels and rediscovers fine-tuning runs on remote hosts. Everything about a
// run lives in its folder on the host (training/PROTOCOL.md); a Launcher only remembers
// RunRecords, so a new instance (or a reloaded VS Code) finds and tails the same runs again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RemoteTransport } from './transport';
import type { HostTarget, RunRecord, RunSpec, RunState, RunStatus, TailHandlers, TailPosition } from './types';
import { createTransport } from './transport-factory';
import { ensureCodeBundle, readCodeBundle, type CodeBundle } from './code-bundle';
import { listEntryFromWire, specToWire, statusFromWire, isTrainingTask } from './wire';
import { createdAtFromId, isRunId, newRunId } from './run-id';
import { retryWithBackoff, type BackoffPolicy } from './backoff';
import { controlArgv, runJsonCommand } from './host-commands';
import { runLifecycle } from './run-lifecycle';
import { SupervisorRunDriver } from './supervisor-run-driver';
import { followTailStream } from './tail-stream';
import {
  AuthFailedError,
  HostKeyChangedError,
  HostKeyUnknownError,
  LauncherInputError,
  RemoteCommandError,
  TailGaveUpError,
  UnsafeWordError,
} from './errors';

export interface ReconnectOptions extends BackoffPolicy {
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
    validateSpec(spec);
    const localDataset = spec.dataset.location === 'local' ? path.resolve(spec.dataset.path) : null;
    if (localDataset && !fs.existsSync(localDataset)) throw new LauncherInputError(`The dataset ${localDataset} does not exist on this machine.`);
    const uploadName = localDataset && fs.statSync(localDataset).isFile() ? `upload/dataset/${path.basename(localDataset)}` : 'upload/dataset';
    const id = newRunId();
    const record: RunRecord = { id, name: spec.name, task: spec.task, target, remoteDir: `${this.remoteRoot}/runs/${id}`, createdAt: new Date().toISOString() };
    const driver = new SupervisorRunDriver({
      transport: this.transport(target),
      record,
      wireSpec: specToWire(spec, localDataset ? uploadName : spec.dataset.path, target),
      localDataset,
      controlPython: this.controlPython,
      deployCode: (signal) => this.ensureCode(target, signal),
    });
    await runLifecycle(driver, { signal: options.signal, onState: (state) => onState?.(state, record) });
    return record;
  }

  async status(record: RunRecord, options: { signal?: AbortSignal } = {}): Promise<RunStatus> {
    return statusFromWire(await this.control(record.target, ['status', checkRunDir(record)], options.signal));
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
    return retryWithBackoff<RunStatus>(async () => {
      let progressed = false;
      try {
        const dir = await this.ensureCode(record.target, signal);
        const end = await followTailStream({
          transport, code: { python: this.controlPython, dir }, runDir, position, handlers, stallMs: this.reconnect.stallMs, signal,
          onPosition: options.onPosition, onData: () => (progressed = true),
        });
        return end.terminal ? { kind: 'done', value: end.terminal } : { kind: 'lost', reason: end.reason, progressed };
      } catch (e) {
        if (signal?.aborted || isPermanent(e)) throw e;
        this.codeOnHost.delete(targetKey(record.target)); // probe again after a failure
        return { kind: 'lost', reason: e instanceof Error ? e.message : String(e), progressed };
      }
    }, {
      policy: this.reconnect,
      signal,
      onRetry: (attempt, reason) => handlers.onReconnect?.(attempt, reason),
      giveUp: (downMs, reason) => new TailGaveUpError(transport.label, record.id, downMs, reason),
    });
  }

  /** Stops the run's whole process group on the host; resolves with the resulting status. */
  async cancel(record: RunRecord, options: { signal?: AbortSignal } = {}): Promise<RunStatus> {
    const out = await this.control(record.target, ['cancel', checkRunDir(record)], options.signal);
    if (out && typeof out === 'object' && 'state' in out) return statusFromWire(out);
    return this.status(record, options);
  }

  /** Every run folder on the host, newest first. */
  async listRuns(target: HostTarget, options: { signal?: AbortSignal } = {}): Promise<RunSummary[]> {
    const out = await this.control(target, ['list', `${this.remoteRoot}/runs`], options.signal);
    if (!Array.isArray(out)) throw new RemoteCommandError(this.transport(target).label, 'control.py list', 0, '', `unexpected output ${JSON.stringify(out).slice(0, 200)}`);
    return out
      .map(listEntryFromWire)
      .filter((e): e is NonNullable<typeof e> => e !== null && isRunId(e.id))
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

  /** Runs a control.py command on the target and returns its JSON answer. */
  private async control(target: HostTarget, args: string[], signal?: AbortSignal): Promise<unknown> {
    const transport = this.transport(target);
    const code = { python: this.controlPython, dir: await this.ensureCode(target, signal) };
    return runJsonCommand(transport, code, controlArgv(code, args), `control.py ${args[0]}`, { signal });
  }
}

/** Errors that reconnecting cannot cure: the user must act (keys, host keys) or the host refused the request. */
function isPermanent(e: unknown): boolean {
  return e instanceof HostKeyChangedError || e instanceof HostKeyUnknownError || e instanceof AuthFailedError || e instanceof UnsafeWordError || e instanceof RemoteCommandError;
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
  if (!isRunId(record.id)) throw new LauncherInputError(`${JSON.stringify(record.id)} is not a run id.`);
  if (!/^[A-Za-z0-9_./-]+$/.test(record.remoteDir) || !record.remoteDir.endsWith(`/runs/${record.id}`)) {
    throw new LauncherInputError(`${JSON.stringify(record.remoteDir)} is not a run folder.`);
  }
  return record.remoteDir;
}

const targetKey = (target: HostTarget) => JSON.stringify(target);

