// Runs the Google Cloud CLI with an argv (never a shell) and turns its common failures into typed
// errors whose messages say what to do. The binary is configurable (a full path, or a test double).
import { spawn } from 'node:child_process';

export class GcloudError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class GcloudNotInstalledError extends GcloudError {
  constructor(readonly binary: string) {
    super(`The Google Cloud CLI (${binary}) was not found. Install it from https://cloud.google.com/sdk/docs/install, or set its full path in the launcher's gcloud setting.`);
  }
}

export class GcloudNotAuthenticatedError extends GcloudError {
  constructor(readonly detail: string) {
    super(`gcloud is not signed in (${detail}). Run \`gcloud auth login\` in a terminal, and \`gcloud config set project PROJECT\` if no project is set.`);
  }
}

export class GcloudQuotaError extends GcloudError {
  constructor(readonly detail: string) {
    super(`Google Cloud refused the TPU for lack of quota or capacity (${detail}). Try another zone or accelerator type, a smaller slice, or request TPU quota for the project.`);
  }
}

/** Any other non-zero exit: the command and the tail of what gcloud said. */
export class GcloudCommandError extends GcloudError {
  constructor(readonly args: readonly string[], readonly exitCode: number, readonly stderr: string) {
    super(`gcloud ${args.slice(0, 4).join(' ')} failed (exit ${exitCode}): ${tail(stderr) || 'no output'}`);
  }
}

export interface GcloudRunOptions {
  stdin?: string | Buffer;
  signal?: AbortSignal;
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  timeoutMs?: number;
}

export interface GcloudResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GcloudOptions {
  /** The gcloud executable: a name on PATH or a full path. */
  binary?: string;
  env?: NodeJS.ProcessEnv;
}

const AUTH_PATTERNS = [
  /You do not currently have an active account selected/i,
  /gcloud auth login/i,
  /Reauthentication (?:failed|required)/i,
  /invalid_grant/i,
  /Could not automatically determine credentials/i,
];
const QUOTA_PATTERNS = [/quota/i, /RESOURCE_EXHAUSTED/, /no more capacity/i, /insufficient capacity/i, /resources? (?:are|is) not available/i];

function tail(text: string): string {
  return text.trim().split('\n').slice(-5).join('\n');
}

/** Maps a failed call's stderr to the typed error a user can act on. */
export function classifyGcloudFailure(args: readonly string[], code: number, stderr: string): GcloudError {
  if (AUTH_PATTERNS.some((p) => p.test(stderr))) return new GcloudNotAuthenticatedError(tail(stderr));
  if (QUOTA_PATTERNS.some((p) => p.test(stderr))) return new GcloudQuotaError(tail(stderr));
  return new GcloudCommandError(args, code, stderr);
}

export class Gcloud {
  readonly binary: string;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: GcloudOptions = {}) {
    this.binary = options.binary || 'gcloud';
    this.env = options.env;
  }

  /** Runs gcloud; resolves with its exit code (non-zero included), rejects only if it cannot start. */
  run(args: readonly string[], options: GcloudRunOptions = {}): Promise<GcloudResult> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(options.signal.reason ?? new Error('aborted'));
        return;
      }
      const child = spawn(this.binary, [...args], {
        env: { ...process.env, ...this.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
        signal: options.signal,
        timeout: options.timeoutMs,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => (options.onStdout ? options.onStdout(chunk) : out.push(chunk)));
      child.stderr.on('data', (chunk: Buffer) => {
        err.push(chunk);
        options.onStderr?.(chunk);
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') reject(new GcloudNotInstalledError(this.binary));
        else if (error.code === 'EACCES') reject(new GcloudNotInstalledError(`${this.binary} (not executable)`));
        else reject(error);
      });
      child.on('close', (code, signal) => {
        resolve({
          code: code ?? (signal ? 128 + 15 : 1),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      child.stdin.on('error', () => {
        // gcloud may exit before reading stdin; its exit code tells what happened.
      });
      child.stdin.end(options.stdin ?? '');
    });
  }

  /** Runs gcloud and throws the typed error for a non-zero exit. */
  async check(args: readonly string[], options: GcloudRunOptions = {}): Promise<GcloudResult> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw classifyGcloudFailure(args, result.code, result.stderr);
    return result;
  }

  /** Runs a gcloud command with --format=json and parses its output. */
  async json<T>(args: readonly string[], options: GcloudRunOptions = {}): Promise<T> {
    const result = await this.check([...args, '--format=json'], options);
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      throw new GcloudCommandError(args, 0, `gcloud printed something that is not JSON: ${result.stdout.slice(0, 200)}`);
    }
  }
}
