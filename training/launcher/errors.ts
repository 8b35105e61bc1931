// Typed errors the launcher throws; each message says what happened and what the user can do.

export class LauncherError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** DNS failure, refused or timed-out connection, or a connection that dropped. */
export class HostUnreachableError extends LauncherError {
  constructor(readonly host: string, readonly detail: string) {
    super(`Cannot reach ${host}: ${detail}. Check the host name, that it is up and that SSH (port 22 unless ~/.ssh/config says otherwise) is reachable.`);
  }
}

/** The server refused every key the SSH client offered (BatchMode never asks for a password). */
export class AuthFailedError extends LauncherError {
  constructor(readonly host: string, readonly detail: string) {
    super(`SSH authentication to ${host} failed: ${detail}. The launcher runs ssh in batch mode (no password prompts): add your public key to the host's ~/.ssh/authorized_keys or load it into ssh-agent, and check that \`ssh ${host}\` works in a terminal without a prompt.`);
  }
}

/** The host's key is not in known_hosts (host-key checking stays on, so nothing is accepted silently). */
export class HostKeyUnknownError extends LauncherError {
  constructor(readonly host: string, readonly detail: string) {
    super(`The SSH host key of ${host} is not known yet (${detail}). Connect once in a terminal with \`ssh ${host}\`, compare the fingerprint with the one your administrator or cloud console shows, and accept it; the launcher never accepts host keys by itself.`);
  }
}

/** The host presents a different key than known_hosts records: possibly an attack, or a rebuilt machine. */
export class HostKeyChangedError extends LauncherError {
  constructor(readonly host: string, readonly detail: string) {
    super(`The SSH host key of ${host} has CHANGED (${detail}). This can mean someone is intercepting the connection, or the machine was rebuilt. If you are sure it was rebuilt, remove the old key with \`ssh-keygen -R <host>\` and connect once with \`ssh ${host}\` to accept the new one.`);
  }
}

/** A remote command ran and failed (for control.py: its {"error": …} message). */
export class RemoteCommandError extends LauncherError {
  constructor(readonly host: string, readonly command: string, readonly exitCode: number, readonly stderr: string, detail?: string) {
    super(`${command} failed on ${host} (exit ${exitCode}): ${detail ?? (stderr.trim().split('\n').slice(-5).join('\n') || 'no output')}`);
  }
}

/** A file transfer (rsync) failed. */
export class TransferError extends LauncherError {
  constructor(readonly host: string, readonly what: string, readonly exitCode: number, readonly stderr: string) {
    super(`Copying ${what} (${host}) failed (rsync exit ${exitCode}): ${stderr.trim().split('\n').slice(-5).join('\n') || 'no output'}`);
  }
}

/** A launcher-made word for a remote command contains characters outside the safe set. */
export class UnsafeWordError extends LauncherError {
  constructor(readonly word: string) {
    super(`Refusing to send ${JSON.stringify(word)} on a remote command line: launcher-made words may only contain letters, digits and _ . / : = @ % + , -; user data must travel on stdin.`);
  }
}

/** The log stream stayed disconnected longer than the launcher was told to keep trying. */
export class TailGaveUpError extends LauncherError {
  constructor(readonly host: string, readonly runId: string, readonly waitedMs: number, readonly lastReason: string) {
    super(`Lost the connection to run ${runId} on ${host} and could not reconnect within ${Math.round(waitedMs / 1000)} s (last error: ${lastReason}). The run keeps going on the host; reattach later to continue from where the log stopped.`);
  }
}

/** A bad argument from the caller (unknown checkpoint name, missing local dataset, …). */
export class LauncherInputError extends LauncherError {}
