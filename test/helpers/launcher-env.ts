// A Launcher wired to the test sshd, with its own remote root under the login's home so test
// files never see each other's runs, and helpers to read the host side directly (it is this machine).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Launcher, type LauncherOptions } from '../../training/launcher/launcher';
import { SshTransport } from '../../training/launcher/ssh-transport';
import type { HostTarget, RunRecord } from '../../training/launcher/types';
import type { TestSshd } from './sshd';

export const REPO = path.resolve(__dirname, '../..');
/** Stands in for the training interpreter in tests of the run machinery (see its docstring). */
export const FAKE_TRAIN_PYTHON = path.join(REPO, 'test/remote/fake-train-python');

export interface LauncherEnv {
  remoteRoot: string;
  target: HostTarget;
  launcher(options?: Partial<LauncherOptions>): Launcher;
  /** The run folder as a local path (the "host" is 127.0.0.1, so the files are right here). */
  hostRunDir(record: RunRecord): string;
  dispose(): Promise<void>;
}

export function launcherEnv(sshd: TestSshd, label: string): LauncherEnv {
  const remoteRoot = `.p2s-test-${label}-${process.pid}`;
  const made: Launcher[] = [];
  return {
    remoteRoot,
    target: { kind: 'ssh', host: sshd.host },
    launcher: (options = {}) => {
      const l = new Launcher({
        remoteRoot,
        transportFactory: (target) => {
          if (target.kind !== 'ssh') throw new Error('tests only use ssh targets');
          return new SshTransport({ host: target.host, configFile: sshd.configFile, serverAliveInterval: 1, serverAliveCountMax: 3, connectTimeout: 5 });
        },
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000, giveUpAfterMs: 30_000, stallMs: 10_000 },
        ...options,
      });
      made.push(l);
      return l;
    },
    hostRunDir: (record) => path.join(os.homedir(), record.remoteDir),
    dispose: async () => {
      await Promise.all(made.map((l) => l.dispose()));
      fs.rmSync(path.join(os.homedir(), remoteRoot), { recursive: true, force: true });
    },
  };
}
