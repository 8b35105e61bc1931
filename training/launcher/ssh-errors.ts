// Turns OpenSSH's stderr (exit status 255) into the launcher's typed errors.
import { AuthFailedError, HostKeyChangedError, HostKeyUnknownError, HostUnreachableError, type LauncherError } from './errors';

const lastLines = (text: string) => text.trim().split('\n').filter((l) => !/^\s*$/.test(l)).slice(-3).join(' ').slice(0, 400);

/**
 * Classifies ssh's own failure. Returns null when stderr shows no connection-level problem
 * (then exit 255 came from the remote command itself); `force` makes an unknown failure a
 * HostUnreachableError instead.
 */
export function classifySshFailure(host: string, exitCode: number, stderr: string, force: boolean): LauncherError | null {
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed|host key .*(?:mismatch|differs)/i.test(stderr)) {
    return new HostKeyChangedError(host, lastLines(stderr.split('\n').filter((l) => /key|Offending/i.test(l)).join('\n')) || 'host key mismatch');
  }
  if (/No \S+ host key is known for|Host key verification failed|host key is not known/i.test(stderr)) {
    return new HostKeyUnknownError(host, 'host key verification failed');
  }
  if (/Permission denied \(|Too many authentication failures|no supported authentication methods/i.test(stderr)) {
    return new AuthFailedError(host, lastLines(stderr.split('\n').filter((l) => /Permission denied|authentication/i.test(l)).join('\n')));
  }
  if (/Could not resolve hostname|Name or service not known|Connection refused|Connection timed out|timed out|No route to host|Network is unreachable|Connection reset|Connection closed|closed by remote host|Broken pipe|kex_exchange_identification|banner exchange|Timeout, server .* not responding|Control socket connect|mux_client/i.test(stderr)) {
    return new HostUnreachableError(host, lastLines(stderr));
  }
  if (force) return new HostUnreachableError(host, lastLines(stderr) || `ssh exited with ${exitCode}`);
  return null;
}
