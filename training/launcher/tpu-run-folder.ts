// Copies of a TPU run's folder beyond worker 0: spec.json to the other hosts of a slice (control.py
// init runs on worker 0 only), and the results to this machine before the VM and its disk are deleted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TpuTransport } from './tpu-transport';
import { mkdirRemote } from './code-bundle';

const FETCHED_FILES = ['spec.json', 'status.json', 'run.log', 'metrics.jsonl', 'tpu-dry-run.jsonl'];

export async function uploadSpec(transport: TpuTransport, remoteDir: string, specJson: string, signal?: AbortSignal): Promise<void> {
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-tpu-spec-'));
  try {
    fs.writeFileSync(path.join(local, 'spec.json'), specJson);
    await mkdirRemote(transport, remoteDir, signal);
    await transport.upload(local, remoteDir, { signal });
  } finally {
    fs.rmSync(local, { recursive: true, force: true });
  }
}

/** The run's status, log, metrics (and checkpoints/final when asked) from worker 0 into `localDir`. */
export async function fetchRunFolder(worker0: TpuTransport, remoteDir: string, localDir: string, withCheckpoint: boolean): Promise<void> {
  fs.mkdirSync(localDir, { recursive: true });
  for (const name of FETCHED_FILES) {
    const r = await worker0.exec(['cat', `${remoteDir}/${name}`]);
    if (r.code === 0) fs.writeFileSync(path.join(localDir, name), r.stdout);
  }
  if (withCheckpoint) await worker0.download(`${remoteDir}/checkpoints/final`, path.join(localDir, 'checkpoints', 'final'));
}
