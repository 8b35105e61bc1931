// The runs this VS Code knows about, kept in ExtensionContext.globalState so the Training Runs
// tree survives a window reload: the RunRecord (enough to find the run on its host again) and
// the last status seen (shown until the launcher reconnects). Everything else lives on the host.
import { RUN_STATES, TRAINING_TASKS, type HostTarget, type RunRecord, type RunStatus } from '../../training/launcher/types';
import { isRunId } from '../../training/launcher/run-id';

/** The part of vscode.Memento the store uses. */
export interface StateMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

interface Thenable<T> {
  then<R>(onfulfilled?: (value: T) => R): unknown;
}

export const STORE_KEY = 'pix2struct.training.runs';
const VERSION = 1;

interface StoredRun {
  record: RunRecord;
  status?: RunStatus;
}

interface Stored {
  version: number;
  runs: StoredRun[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function parseTarget(v: unknown): HostTarget | null {
  if (!isObject(v)) return null;
  if (v.kind === 'ssh') return isString(v.host) && v.host !== '' && !v.host.startsWith('-') ? { kind: 'ssh', host: v.host } : null;
  if (v.kind === 'tpu-vm') {
    if (![v.name, v.zone, v.acceleratorType, v.runtimeVersion].every(isString)) return null;
    return {
      kind: 'tpu-vm',
      name: v.name as string,
      zone: v.zone as string,
      ...(isString(v.project) ? { project: v.project } : {}),
      acceleratorType: v.acceleratorType as string,
      runtimeVersion: v.runtimeVersion as string,
      keepAfterRun: v.keepAfterRun === true,
    };
  }
  return null;
}

/** A record read back from storage (or from a test): anything malformed is dropped, not trusted. */
export function parseRunRecord(v: unknown): RunRecord | null {
  if (!isObject(v)) return null;
  const target = parseTarget(v.target);
  if (!target || !isRunId(v.id) || !isString(v.name) || !isString(v.remoteDir) || !isString(v.createdAt)) return null;
  if (!TRAINING_TASKS.includes(v.task as never)) return null;
  return { id: v.id, name: v.name, task: v.task as RunRecord['task'], target, remoteDir: v.remoteDir, createdAt: v.createdAt };
}

function parseStatus(v: unknown): RunStatus | undefined {
  if (!isObject(v) || !RUN_STATES.includes(v.state as never) || !isString(v.updatedAt)) return undefined;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  return {
    state: v.state as RunStatus['state'],
    updatedAt: v.updatedAt,
    checkpoints: Array.isArray(v.checkpoints) ? v.checkpoints.filter(isString) : [],
    ...(isString(v.phase) ? { phase: v.phase } : {}),
    ...(isString(v.message) ? { message: v.message } : {}),
    ...(num(v.step) !== undefined ? { step: num(v.step) } : {}),
    ...(num(v.totalSteps) !== undefined ? { totalSteps: num(v.totalSteps) } : {}),
    ...(num(v.exitCode) !== undefined ? { exitCode: num(v.exitCode) } : {}),
    ...(isString(v.finalCheckpoint) ? { finalCheckpoint: v.finalCheckpoint } : {}),
  };
}

export class RunStore {
  private runs = new Map<string, StoredRun>();

  constructor(private readonly memento: StateMemento) {
    this.load();
  }

  /** (Re)reads what is stored, dropping entries that do not parse. */
  load(): void {
    const stored = this.memento.get<Stored>(STORE_KEY);
    this.runs.clear();
    if (!isObject(stored) || !Array.isArray(stored.runs)) return;
    for (const raw of stored.runs) {
      if (!isObject(raw)) continue;
      const record = parseRunRecord(raw.record);
      if (record) this.runs.set(record.id, { record, status: parseStatus(raw.status) });
    }
  }

  records(): RunRecord[] {
    return [...this.runs.values()].map((r) => r.record);
  }

  get(id: string): StoredRun | undefined {
    return this.runs.get(id);
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  async add(record: RunRecord, status?: RunStatus): Promise<void> {
    this.runs.set(record.id, { record, status });
    await this.save();
  }

  /** Remembers the latest status; writes only when something the tree shows changed. */
  async setStatus(id: string, status: RunStatus): Promise<void> {
    const run = this.runs.get(id);
    if (!run) return;
    const before = run.status;
    run.status = status;
    if (before && before.state === status.state && before.step === status.step && before.finalCheckpoint === status.finalCheckpoint) return;
    await this.save();
  }

  async remove(id: string): Promise<void> {
    if (this.runs.delete(id)) await this.save();
  }

  private async save(): Promise<void> {
    const value: Stored = { version: VERSION, runs: [...this.runs.values()] };
    await this.memento.update(STORE_KEY, value);
  }
}
