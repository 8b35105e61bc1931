// RemoteTransport over the system's OpenSSH client and rsync: the user's ~/.ssh/config, agent,
// keys and known_hosts apply unchanged. One multiplexed master connection per host
// (ControlMaster) keeps repeated status/tail calls cheap.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdir, stat } from 'node:fs/promises';
import type { ExecOptions, ExecResult, RemoteTransport } from './transport';
import { classifySshFailure } from './ssh-errors';
import { LauncherInputError, TransferError } from './errors';
import { remoteCommand, safeWord } from './remote-words';

export interface SshTransportOptions {
  /** Host alias from ~/.ssh/config, a host name, or user@host. */
  host: string;
  /** An ssh_config file to use instead of ~/.ssh/config (ssh -F). */
  configFile?: string;
  sshPath?: string;
  rsyncPath?: string;
  /** Seconds between keep-alive probes; a dead link is noticed after interval × count. */
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number;
  /** How long the master connection outlives its last session, e.g. "60s". */
  controlPersist?: string;
  /** Set false to open a fresh connection per command (no multiplexing). */
  multiplex?: boolean;
}

// A host must look like one: no option-like leading dash, no whitespace or shell syntax.
const HOST_PATTERN = /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9._:%\[\]-]+$/;

export class SshTransport implements RemoteTransport {
  readonly label: string;
  private readonly host: string;
  private readonly sshPath: string;
  private readonly rsyncPath: string;
  private readonly options: string[];

  constructor(opts: SshTransportOptions) {
    if (!HOST_PATTERN.test(opts.host) || opts.host.startsWith('-')) {
      throw new LauncherInputError(`${JSON.stringify(opts.host)} is not a valid SSH host (expected an alias from ~/.ssh/config, a host name or user@host).`);
    }
    this.host = opts.host;
    this.label = `ssh ${opts.host}`;
    this.sshPath = opts.sshPath ?? 'ssh';
    this.rsyncPath = opts.rsyncPath ?? 'rsync';
    const o = (k: string, v: string | number) => ['-o', `${k}=${v}`];
    this.options = [
      ...(opts.configFile ? ['-F', checkedLocalWord(opts.configFile)] : []),
      ...o('BatchMode', 'yes'),
      ...o('ServerAliveInterval', opts.serverAliveInterval ?? 5),
      ...o('ServerAliveCountMax', opts.serverAliveCountMax ?? 3),
      ...o('ConnectTimeout', opts.connectTimeout ?? 10),
      ...((opts.multiplex ?? process.platform !== 'win32')
        ? [...o('ControlMaster', 'auto'), ...o('ControlPath', controlPath(opts.host, opts.configFile)), ...o('ControlPersist', opts.controlPersist ?? '60s')]
        : []),
    ];
  }

  /** The ssh options (without host), also used as rsync's remote shell. */
  sshOptions(): readonly string[] {
    return this.options;
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const command = remoteCommand(argv);
      if (options.signal?.aborted) return reject(abortError(options.signal));
      const child = spawn(this.sshPath, [...this.options, '--', this.host, command], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => {
        child.kill('SIGTERM');
        finish(() => reject(abortError(options.signal!)));
      };
      const timer = options.timeoutMs
        ? setTimeout(() => {
            child.kill('SIGTERM');
            finish(() => reject(classifySshFailure(this.host, 255, `timed out after ${options.timeoutMs} ms`, true)));
          }, options.timeoutMs)
        : undefined;
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => (options.onStdout ? options.onStdout(chunk) : out.push(chunk)));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', (e) => finish(() => reject(new LauncherInputError(`Cannot run ${this.sshPath}: ${e.message}. Install OpenSSH's client and make sure it is on PATH.`, { cause: e }))));
      child.on('close', (code, sig) => {
        const stderr = Buffer.concat(err).toString('utf8');
        const exit = code ?? (sig ? 255 : 0);
        // ssh itself reports its own failures with 255; anything else is the remote command's status.
        const failure = exit === 255 ? classifySshFailure(this.host, exit, stderr, false) : null;
        finish(() => (failure ? reject(failure) : resolve({ code: exit, stdout: Buffer.concat(out).toString('utf8'), stderr })));
      });
      child.stdin.on('error', () => undefined); // the remote may exit before reading stdin
      child.stdin.end(options.stdin ?? '');
    });
  }

  /** A folder's contents, or a single file, land in remotePath (created with its parents). */
  async upload(localPath: string, remotePath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    // Absolute, so rsync never mistakes a local name with a colon for host:path.
    const local = path.resolve(localPath);
    const source = (await isDirectory(local)) ? local + path.sep : local;
    const dest = safeWord(remotePath.replace(/\/+$/, ''));
    const made = await this.exec(['mkdir', '-p', dest], { signal: options.signal });
    if (made.code !== 0) throw new TransferError(this.host, `${localPath} → ${remotePath}`, made.code, made.stderr);
    await this.rsync(['--', source, `${this.host}:${dest}/`], `${localPath} → ${remotePath}`, options.signal);
  }

  async download(remotePath: string, localPath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const remote = safeWord(remotePath.endsWith('/') ? remotePath : remotePath + '/');
    const local = path.resolve(localPath);
    await mkdir(local, { recursive: true });
    await this.rsync(['--', `${this.host}:${remote}`, local + path.sep], `${remotePath} → ${localPath}`, options.signal);
  }

  private rsync(args: string[], what: string, signal?: AbortSignal): Promise<void> {
    // rsync splits -e on whitespace (honouring quotes); every option word here is free of both.
    const shell = [this.sshPath, ...this.options].map(rsyncShellWord).join(' ');
    const argv = ['-a', '--partial', '-e', shell, ...args];
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const child = spawn(this.rsyncPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      const err: Buffer[] = [];
      const onAbort = () => child.kill('SIGTERM');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => reject(new LauncherInputError(`Cannot run ${this.rsyncPath}: ${e.message}. Install rsync on this machine (and on the host).`, { cause: e })));
      child.on('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        const stderr = Buffer.concat(err).toString('utf8');
        if (signal?.aborted) return reject(abortError(signal));
        if (code === 0) return resolve();
        // 255 from ssh surfaces in rsync as "connection unexpectedly closed" plus ssh's own message.
        reject(classifySshFailure(this.host, 255, stderr, false) ?? new TransferError(this.host, what, code ?? -1, stderr));
      });
    });
  }

  /** Closes the multiplexed master connection, if one is open. */
  async dispose(): Promise<void> {
    if (!this.options.includes('ControlMaster=auto')) return;
    await new Promise<void>((resolve) => {
      const child = spawn(this.sshPath, [...this.options, '-O', 'exit', '--', this.host], { stdio: 'ignore' });
      child.on('error', () => resolve());
      child.on('close', () => resolve());
    });
  }
}

let instances = 0;

/**
 * A socket path short enough for sun_path (104 bytes on macOS) and free of ssh's % tokens and
 * spaces. One per transport instance, so disposing one launcher never closes another's sessions.
 */
function controlPath(host: string, configFile: string | undefined): string {
  const owner = `${host}\0${configFile ?? ''}\0${os.userInfo().username}\0${process.pid}\0${++instances}`;
  const key = crypto.createHash('sha256').update(owner).digest('hex').slice(0, 16);
  let dir = os.tmpdir();
  // ssh appends ".XXXXXXXXXXXXXXXX" while creating the socket: keep well below the limit.
  if (/[\s%"'\\]/.test(dir) || dir.length > 60) dir = process.platform === 'win32' ? dir : '/tmp';
  return path.join(dir, `p2s-${key}`);
}

function checkedLocalWord(word: string): string {
  if (/[\s"'\\]/.test(word)) throw new LauncherInputError(`SSH config path ${JSON.stringify(word)} must not contain whitespace, quotes or backslashes.`);
  return word;
}

function rsyncShellWord(word: string): string {
  if (/[\s"'\\]/.test(word)) throw new LauncherInputError(`Cannot pass ${JSON.stringify(word)} to rsync's remote shell.`);
  return word;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    throw new LauncherInputError(`${p} does not exist on this machine.`);
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted.', 'AbortError');
}
