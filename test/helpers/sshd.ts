// A real OpenSSH server on 127.0.0.1 for launcher tests: its own host key, one authorised client
// key, and a client ssh_config whose aliases cover the good case and the failures a user meets.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './processes';

export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  dir: string;
  port: number;
  /** ssh_config for the client (ssh -F); every alias below is defined there. */
  configFile: string;
  /** Good alias: known host key, authorised key. */
  host: string;
  /** Host key not in known_hosts. */
  unknownKeyHost: string;
  /** known_hosts holds a different key for this server. */
  changedKeyHost: string;
  /** A port on 127.0.0.1 where nothing listens. */
  downHost: string;
  /** Offers a key the server does not authorise. */
  badKeyHost: string;
  /** The server's log (stderr of sshd -e). */
  log(): string;
  /** SIGKILLs the daemon and every process it spawned (sessions, remote commands). */
  kill(): Promise<void>;
  /** Starts the daemon again on the same port with the same keys. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function sshdAvailable(): boolean {
  return fs.existsSync(SSHD) && fs.existsSync('/usr/bin/ssh') && fs.existsSync('/usr/bin/rsync');
}

export async function startSshd(): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-sshd-'));
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'p2s-test', '-f', path.join(dir, file)]);
  keygen('host_ed25519');
  keygen('client_ed25519');
  keygen('other_host_ed25519');
  fs.copyFileSync(path.join(dir, 'client_ed25519.pub'), path.join(dir, 'authorized_keys'));
  const port = await freePort();
  const downPort = await freePort();
  const user = os.userInfo().username;
  // sshd started as root refuses to run without its privilege-separation folder; a non-root
  // sshd (CI runners) does not use it, and cannot create it.
  try {
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch {
    /* not root */
  }
  const sshdConfig = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    sshdConfig,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_ed25519')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      // The temp folder is not owned the way StrictModes wants.
      'StrictModes no',
      'UsePAM no',
      `AllowUsers ${user}`,
      'MaxSessions 50',
      'MaxStartups 50',
      'LogLevel INFO',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const pub = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${pub('host_ed25519.pub')}\n[127.0.0.1]:${downPort} ${pub('host_ed25519.pub')}\n`);
  fs.writeFileSync(path.join(dir, 'known_hosts_empty'), '');
  fs.writeFileSync(path.join(dir, 'known_hosts_changed'), `[127.0.0.1]:${port} ${pub('other_host_ed25519.pub')}\n`);
  const alias = (name: string, p: number, knownHosts: string, key = 'client_ed25519') =>
    [
      `Host ${name}`,
      '  HostName 127.0.0.1',
      `  Port ${p}`,
      `  User ${user}`,
      `  IdentityFile ${path.join(dir, key)}`,
      '  IdentitiesOnly yes',
      '  IdentityAgent none',
      `  UserKnownHostsFile ${path.join(dir, knownHosts)}`,
      '  GlobalKnownHostsFile /dev/null',
      '  UpdateHostKeys no',
      '  LogLevel ERROR',
    ].join('\n');
  const configFile = path.join(dir, 'ssh_config');
  fs.writeFileSync(
    configFile,
    [
      alias('p2s-test', port, 'known_hosts'),
      alias('p2s-test-unknown-key', port, 'known_hosts_empty'),
      alias('p2s-test-changed-key', port, 'known_hosts_changed'),
      alias('p2s-test-down', downPort, 'known_hosts'),
      alias('p2s-test-bad-key', port, 'known_hosts', 'other_host_ed25519'),
      '',
    ].join('\n'),
  );
  fs.chmodSync(configFile, 0o600);

  let child: ChildProcess | null = null;
  let log = '';
  const launch = async () => {
    const c = spawn(SSHD, ['-D', '-e', '-f', sshdConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (d: Buffer) => (log += d.toString('utf8')));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (c.exitCode !== null) throw new Error(`sshd exited with ${c.exitCode}: ${log}`);
      if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.pid === undefined) return;
    const exited = new Promise((r) => c.once('exit', r));
    // Sessions first (each connection's sshd and the commands under it), then the daemon.
    for (const pid of descendants(c.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    c.kill('SIGKILL');
    await exited;
    child = null;
  };
  await launch();
  return {
    dir,
    port,
    configFile,
    host: 'p2s-test',
    unknownKeyHost: 'p2s-test-unknown-key',
    changedKeyHost: 'p2s-test-changed-key',
    downHost: 'p2s-test-down',
    badKeyHost: 'p2s-test-bad-key',
    log: () => log,
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every live descendant of pid, parents before children (from /proc). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Live processes whose process group is pgid (from /proc/<pid>/stat). */
export function processesInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields: state ppid pgrp …; zombies are already dead.
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
