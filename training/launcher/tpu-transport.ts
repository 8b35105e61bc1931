// RemoteTransport for Cloud TPU VMs: `gcloud compute tpus tpu-vm ssh|scp`. gcloud hands --command
// to ssh, which hands it to the VM's login shell, so it is built only from launcher-made safe words
// (remote-words.ts refuses anything else); user data travels on stdin or as file content.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import type { ExecOptions, ExecResult, RemoteTransport } from './transport';
import { remoteCommand, safeWord } from './remote-words';
import { Gcloud, GcloudCommandError, classifyGcloudFailure } from './gcloud';
import { LauncherInputError } from './errors';
import { registerTransport } from './transport-factory';

export interface TpuVmRef {
  name: string;
  zone: string;
  project?: string;
}

/** Which workers of a slice a command reaches: one index, or every host ("all"). */
export type TpuWorker = number | 'all';

const TPU_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;
const PROJECT = /^(?:[a-z][-a-z0-9.:]{4,61}[a-z0-9])$/;

/** Refuses names gcloud would misread (a leading dash) or that are not valid Cloud TPU ids. */
export function checkTpuVmRef(vm: TpuVmRef): void {
  if (!TPU_NAME.test(vm.name)) throw new LauncherInputError(`"${vm.name}" is not a valid TPU name: lower-case letters, digits and dashes, starting with a letter, at most 63 characters.`);
  if (!ZONE.test(vm.zone)) throw new LauncherInputError(`"${vm.zone}" is not a Google Cloud zone (for example europe-west4-a).`);
  if (vm.project !== undefined && !PROJECT.test(vm.project)) throw new LauncherInputError(`"${vm.project}" is not a Google Cloud project id.`);
}

/** --zone and --project as single argv words (a value can never become a separate flag). */
export function locationArgs(vm: TpuVmRef): string[] {
  return [`--zone=${vm.zone}`, ...(vm.project ? [`--project=${vm.project}`] : [])];
}

export interface TpuTransportOptions {
  gcloud?: Gcloud;
  worker?: TpuWorker;
}

export class TpuTransport implements RemoteTransport {
  readonly label: string;
  readonly worker: TpuWorker;
  private readonly gcloud: Gcloud;

  constructor(readonly vm: TpuVmRef, options: TpuTransportOptions = {}) {
    checkTpuVmRef(vm);
    this.gcloud = options.gcloud ?? new Gcloud();
    this.worker = options.worker ?? 0;
    this.label = `TPU VM ${vm.name} (${vm.zone}${this.worker === 0 ? '' : `, worker ${this.worker}`})`;
  }

  /** The same VM, other workers (install and t5x.train reach every host of a slice). */
  onWorkers(worker: TpuWorker): TpuTransport {
    return new TpuTransport(this.vm, { gcloud: this.gcloud, worker });
  }

  private common(): string[] {
    return [...locationArgs(this.vm), `--worker=${this.worker}`];
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (this.worker === 'all' && options.stdin !== undefined) {
      // gcloud runs one ssh per worker in parallel; they would share (and split) one stdin.
      throw new LauncherInputError('stdin cannot be sent to every worker of a TPU slice at once; address one worker.');
    }
    const args = ['compute', 'tpus', 'tpu-vm', 'ssh', this.vm.name, ...this.common(), `--command=${remoteCommand(argv)}`];
    return this.gcloud.run(args, { stdin: options.stdin, signal: options.signal, onStdout: options.onStdout, timeoutMs: options.timeoutMs });
  }

  async upload(localPath: string, remotePath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const remote = checkRemotePath(remotePath);
    const isDir = fs.statSync(localPath).isDirectory();
    // gcloud reads "NAME:path" in any source with a colon, and a leading dash as a flag: the
    // user's path is reached through a launcher-named link instead (scp follows it).
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-tpu-upload-'));
    try {
      const payload = path.join(local, 'payload');
      fs.symlinkSync(path.resolve(localPath), payload);
      if (!isDir) {
        await this.exec(['mkdir', '-p', path.posix.dirname(remote)], options).then((r) => this.ok(r, 'mkdir'));
        await this.scp([payload], `${this.vm.name}:${remote}`, false, options.signal);
        return;
      }
      // scp copies a folder *as* the destination only when that does not exist yet; rsync's
      // "contents of folder/ into remote" is a fresh staging name, then hard links into place.
      const staging = `${remote}/.p2s-upload-${crypto.randomBytes(6).toString('hex')}`;
      await this.exec(['mkdir', '-p', remote], options).then((r) => this.ok(r, 'mkdir'));
      await this.scp([payload], `${this.vm.name}:${staging}`, true, options.signal);
      await this.exec(['cp', '-a', '-l', '-f', `${staging}/.`, `${remote}/`], options).then((r) => this.ok(r, 'cp'));
      await this.exec(['rm', '-rf', staging], options).then((r) => this.ok(r, 'rm'));
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  }

  async download(remotePath: string, localPath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.worker === 'all') throw new LauncherInputError('Download from one worker of a TPU slice, not all.');
    const remote = checkRemotePath(remotePath);
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-tpu-download-'));
    try {
      const landed = path.join(staging, 'payload');
      await this.scp([`${this.vm.name}:${remote}`], landed, true, options.signal);
      fs.mkdirSync(localPath, { recursive: true });
      fs.cpSync(landed, localPath, { recursive: true, force: true });
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }

  async dispose(): Promise<void> {
    // Every call is its own gcloud process; nothing stays open.
  }

  private ok(result: ExecResult, what: string): void {
    if (result.code !== 0) throw classifyGcloudFailure(['compute', 'tpus', 'tpu-vm', 'ssh', what], result.code, result.stderr);
  }

  private async scp(sources: string[], dest: string, recurse: boolean, signal?: AbortSignal): Promise<void> {
    const args = ['compute', 'tpus', 'tpu-vm', 'scp', ...sources, dest, ...this.common(), ...(recurse ? ['--recurse'] : [])];
    const result = await this.gcloud.run(args, { signal });
    if (result.code !== 0) {
      const error = classifyGcloudFailure(args, result.code, result.stderr);
      throw error instanceof GcloudCommandError ? new GcloudCommandError(['compute', 'tpus', 'tpu-vm', 'scp'], result.code, result.stderr) : error;
    }
  }
}

/** Remote paths are relative to the VM home, launcher-made, without `..` (scp may hand them to a shell). */
function checkRemotePath(remotePath: string): string {
  safeWord(remotePath);
  if (remotePath.startsWith('/') || remotePath.startsWith('-') || remotePath.split('/').includes('..')) {
    throw new LauncherInputError(`Refusing remote path ${JSON.stringify(remotePath)}: it must be relative to the VM's home, without "..".`);
  }
  return remotePath.replace(/\/+$/, '');
}

/**
 * Lets the Launcher (createTransport) reach `tpu-vm` targets: worker 0, where the run folder and
 * its supervisor live. Creating and deleting the VM is tpu-lifecycle.ts's job, around the run.
 */
export function registerTpuVmTransport(gcloud: Gcloud = new Gcloud()): void {
  registerTransport('tpu-vm', (target) => new TpuTransport(target, { gcloud, worker: 0 }));
}
