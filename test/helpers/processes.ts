// Ports and process groups for the test harnesses that start servers (code-server, sshd).
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
};

/**
 * Ends a child started with `detached: true` and everything in its process group (code-server's
 * file watcher and extension host): SIGTERM, SIGKILL after `graceMs`, and SIGKILL to the group
 * once the leader exits, since members can outlive it.
 */
export function killProcessGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    const pid = child.pid;
    if (pid === undefined) return resolve();
    if (child.exitCode !== null || child.signalCode !== null) {
      signalGroup(pid, 'SIGKILL');
      return resolve();
    }
    const hard = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(hard);
      signalGroup(pid, 'SIGKILL');
      resolve();
    });
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      clearTimeout(hard);
      resolve();
    }
  });
}
