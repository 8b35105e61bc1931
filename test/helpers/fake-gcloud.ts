// Sets up fake-gcloud.mjs (the cloud API is fake; ssh/scp go to the real test sshd) and reads back
// what it was asked to do.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestSshd } from './sshd';
import { Gcloud } from '../../training/launcher/gcloud';

export const FAKE_GCLOUD = path.join(__dirname, 'fake-gcloud.mjs');

export interface FakeGcloudState {
  sshd: { port: number; user: string; key: string; knownHosts: string };
  homeRoot: string;
  project: string;
  authenticated: boolean;
  quotaExceeded: boolean;
  /** Hosts per accelerator type, as the real API would create them. */
  workersByType: Record<string, number>;
  describesUntilReady: number;
  nodes: Record<string, { name: string; acceleratorType: string; version: string; state: string; workers: number; describes: number }>;
}

export interface FakeGcloud {
  dir: string;
  gcloud: Gcloud;
  /** Every invocation's argv, oldest first. */
  calls(): string[][];
  clearCalls(): void;
  state(): FakeGcloudState;
  update(change: Partial<FakeGcloudState>): void;
  /** A fake worker's home folder (the VM's ~). */
  workerHome(vmName: string, worker: number): string;
  dispose(): void;
}

/** `sshd` may be null for tests of the cloud API alone (then ssh/scp fail). */
export function startFakeGcloud(sshd: TestSshd | null, workersByType: Record<string, number>): FakeGcloud {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-fake-gcloud-'));
  const statePath = path.join(dir, 'state.json');
  const recordPath = path.join(dir, 'calls.jsonl');
  const state: FakeGcloudState = {
    sshd: sshd
      ? { port: sshd.port, user: os.userInfo().username, key: path.join(sshd.dir, 'client_ed25519'), knownHosts: path.join(sshd.dir, 'known_hosts') }
      : { port: 1, user: 'nobody', key: '/dev/null', knownHosts: '/dev/null' },
    homeRoot: path.join(dir, 'vms'),
    project: 'fake-project',
    authenticated: true,
    quotaExceeded: false,
    workersByType,
    describesUntilReady: 1,
    nodes: {},
  };
  fs.writeFileSync(statePath, JSON.stringify(state));
  fs.writeFileSync(recordPath, '');
  const read = (): FakeGcloudState => JSON.parse(fs.readFileSync(statePath, 'utf8'));
  return {
    dir,
    gcloud: new Gcloud({ binary: FAKE_GCLOUD, env: { FAKE_GCLOUD_STATE: statePath, FAKE_GCLOUD_RECORD: recordPath } }),
    calls: () => fs.readFileSync(recordPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]),
    clearCalls: () => fs.writeFileSync(recordPath, ''),
    state: read,
    update: (change) => fs.writeFileSync(statePath, JSON.stringify({ ...read(), ...change })),
    workerHome: (vmName, worker) => path.join(state.homeRoot, vmName, `worker-${worker}`),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
