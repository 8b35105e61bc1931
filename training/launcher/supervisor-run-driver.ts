// The RunDriver of a GPU run on an SSH host (or any host a RemoteTransport reaches): one step,
// control.py start, detaches a supervisor that takes the run through installing and running to a
// terminal state on its own. Launcher.submit drives it; Launcher.tail follows the run afterwards.
import type { RemoteTransport } from './transport';
import type { LauncherSideState, RunDriver, RunStep } from './run-driver';
import type { RunRecord } from './types';
import { mkdirRemote } from './code-bundle';
import { controlArgv, runJsonCommand, type RemoteCode } from './host-commands';

export interface SupervisorRunInputs {
  transport: RemoteTransport;
  record: RunRecord;
  /** spec.json's content (snake_case), sent on stdin of control.py init. */
  wireSpec: Record<string, unknown>;
  /** A dataset on this machine, copied into the run folder's upload/dataset. */
  localDataset: string | null;
  controlPython: string;
  /** Uploads the code unless the host has it; resolves with its folder there. */
  deployCode(signal?: AbortSignal): Promise<string>;
}

export class SupervisorRunDriver implements RunDriver {
  readonly label: string;
  private code: RemoteCode | null = null;

  constructor(private readonly run: SupervisorRunInputs) {
    this.label = run.transport.label;
  }

  async deployCode(signal?: AbortSignal): Promise<void> {
    this.code = { python: this.run.controlPython, dir: await this.run.deployCode(signal) };
  }

  async createRun(onState: (state: LauncherSideState) => void, signal?: AbortSignal): Promise<void> {
    const { transport, record, localDataset } = this.run;
    await this.control(['init', record.remoteDir], { stdin: JSON.stringify(this.run.wireSpec), signal });
    onState('preparing');
    await this.control(['set-state', record.remoteDir, 'uploading'], { stdin: localDataset ? 'uploading the dataset' : 'nothing to upload', signal });
    onState('uploading');
    if (localDataset) {
      const dest = `${record.remoteDir}/upload/dataset`;
      await mkdirRemote(transport, dest, signal);
      await transport.upload(localDataset, dest, { signal });
    }
  }

  steps(): readonly RunStep[] {
    return [
      {
        label: 'control.py start',
        start: async (signal) => void (await this.control(['start', this.run.record.remoteDir], { signal })),
        // A supervisor that may not have started leaves the run failed, with the reason.
        stop: (reason) => this.markFailed(reason),
      },
    ];
  }

  async markFailed(reason: string): Promise<void> {
    await this.control(['set-state', this.run.record.remoteDir, 'failed'], { stdin: `submit failed: ${reason}` });
  }

  private control(args: string[], options: { stdin?: string; signal?: AbortSignal }): Promise<unknown> {
    if (!this.code) throw new Error('deployCode comes first');
    return runJsonCommand(this.run.transport, this.code, controlArgv(this.code, args), `control.py ${args[0]}`, options);
  }
}
