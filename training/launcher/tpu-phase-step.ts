// One phase of the original TPU pipeline as a RunStep: `python3 -m pix2struct_remote.tpu start|wait|
// cancel PHASE RUNDIR` on the VM. Started detached (a dropped connection or a closed window does not
// end t5x.train); worker 0 answers for the phase, while install and train run on every host of a slice.
import type { Attempt } from './backoff';
import type { RunStep, StepState } from './run-driver';
import type { TpuTransport } from './tpu-transport';
import { lastJsonLine, runJsonCommand, tpuPhaseArgv, type RemoteCode } from './host-commands';
import { RemoteCommandError } from './errors';

export const TPU_PHASES = ['install', 'preprocess', 'train', 'convert'] as const;
export type TpuPhase = (typeof TPU_PHASES)[number];

const STEP_STATES: readonly string[] = ['not-started', 'running', 'ok', 'failed'] satisfies StepState[];

export interface TpuPhaseContext {
  worker0: TpuTransport;
  /** Worker 0 for a one-host VM, every worker for a slice. */
  everyWorker: TpuTransport;
  code: RemoteCode;
  remoteDir: string;
  dryRun: boolean;
  /** Longest single `wait` on the VM, in seconds. */
  waitSeconds: number;
  onProgress(message: string): void;
}

export class TpuPhaseStep implements RunStep {
  readonly label: string;
  /** Where the phase runs: install and t5x.train on every host of a slice, the rest on worker 0. */
  readonly transport: TpuTransport;
  private lastFailure = { code: 0, stderr: '' };

  constructor(readonly phase: TpuPhase, private readonly vm: TpuPhaseContext) {
    this.label = `TPU ${phase}`;
    this.transport = phase === 'install' || phase === 'train' ? vm.everyWorker : vm.worker0;
  }

  async state(signal?: AbortSignal): Promise<StepState> {
    const answer = await runJsonCommand(this.vm.worker0, this.vm.code, this.argv('wait', '--timeout=0'), 'TPU phase state', { signal });
    const state = (answer as { state?: unknown } | null)?.state ?? 'not-started';
    // Anything else the VM might say means the phase is under way: wait for it rather than start it twice.
    return typeof state === 'string' && STEP_STATES.includes(state) ? (state as StepState) : 'running';
  }

  async start(signal?: AbortSignal): Promise<void> {
    await runJsonCommand(this.transport, this.vm.code, this.argv('start', ...(this.vm.dryRun ? ['--dry-run'] : [])), this.label, { signal });
  }

  async poll(signal?: AbortSignal): Promise<Attempt<void>> {
    const r = await this.vm.worker0.exec(this.argv('wait', `--timeout=${this.vm.waitSeconds}`), { signal });
    const answer = lastJsonLine(r.stdout) as { state?: string; message?: string } | undefined;
    if (r.code !== 0 || !answer?.state) {
      this.lastFailure = { code: r.code, stderr: r.stderr };
      return { kind: 'lost', reason: `exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`, progressed: false };
    }
    if (answer.state === 'ok') return { kind: 'done', value: undefined };
    if (answer.state === 'failed') throw new RemoteCommandError(this.vm.worker0.label, this.label, 1, '', answer.message || 'failed');
    if (answer.state === 'not-started') throw new RemoteCommandError(this.vm.worker0.label, this.label, 1, '', 'the phase never started on worker 0');
    return { kind: 'pending' };
  }

  lostContactError(): Error {
    const { code, stderr } = this.lastFailure;
    return new RemoteCommandError(this.vm.worker0.label, `${this.label} (waiting)`, code, stderr, 'no answer from the VM; the phase may still be running there');
  }

  /** Cancelled, or failed on worker 0: stop it on every worker it runs on (t5x on the other hosts of a slice would wait forever, and a kept VM would keep it running). */
  async stop(): Promise<void> {
    this.vm.onProgress(`Stopping ${this.phase} on ${this.transport.label}…`);
    await this.transport.exec(this.argv('cancel'), { timeoutMs: 60_000 });
  }

  private argv(action: 'start' | 'wait' | 'cancel', ...extra: string[]): string[] {
    return tpuPhaseArgv(this.vm.code, [action, this.phase, this.vm.remoteDir, ...extra]);
  }
}
