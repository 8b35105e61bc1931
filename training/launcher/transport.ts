// How the launcher reaches a host. Two implementations: system OpenSSH (ssh-transport.ts) and
// Cloud TPU VMs through `gcloud compute tpus tpu-vm ssh/scp` (tpu-transport.ts).
// Commands are argv arrays; a transport quotes each word for the remote shell itself and the
// launcher only ever passes fixed words, code hashes and run ids (user data travels on stdin).

export interface ExecOptions {
  /** Written to the remote command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  signal?: AbortSignal;
  /** Streaming stdout (tail); the result's stdout is then empty. */
  onStdout?(chunk: Buffer): void;
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RemoteTransport {
  /** A short description for logs and errors, e.g. "ssh gpu-box" or "TPU VM my-tpu (europe-west4-a)". */
  readonly label: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Copies a local file or folder to a path relative to the remote home (rsync semantics: contents of folder/). */
  upload(localPath: string, remotePath: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Copies a remote folder to a local one. */
  download(remotePath: string, localPath: string, options?: { signal?: AbortSignal }): Promise<void>;
  dispose(): Promise<void>;
}
