// The remote half of the launcher (training/remote) travels to each host once per version:
// codeHash names its files' content, and a host that already has that hash gets nothing.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RemoteTransport } from './transport';
import { RemoteCommandError } from './errors';

const SKIPPED = /(^|\/)(__pycache__|\.pytest_cache|\.mypy_cache|\.git)(\/|$)|\.py[co]$|(^|\/)\.DS_Store$/;
/** Written last, so a half-finished upload is never taken for a complete bundle. */
const COMPLETE_MARKER = '.bundle-complete';

export interface CodeBundle {
  dir: string;
  /** Relative paths, '/'-separated, sorted. */
  files: string[];
  /** First 12 hex digits of sha256 over every file's path and bytes. */
  hash: string;
}

export function readCodeBundle(dir: string): CodeBundle {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (SKIPPED.test(child)) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  walk('');
  files.sort();
  const sha = crypto.createHash('sha256');
  for (const f of files) {
    sha.update(f).update('\0');
    sha.update(fs.readFileSync(path.join(dir, f))).update('\0');
  }
  return { dir, files, hash: sha.digest('hex').slice(0, 12) };
}

/** Remote folder of a bundle, relative to the host's home. */
export const codeDirFor = (remoteRoot: string, hash: string) => `${remoteRoot}/code/${hash}`;

/** Uploads the bundle unless the host already has it; returns the remote folder. */
export async function ensureCodeBundle(transport: RemoteTransport, bundle: CodeBundle, remoteRoot: string, signal?: AbortSignal): Promise<string> {
  const remoteDir = codeDirFor(remoteRoot, bundle.hash);
  const probe = await transport.exec(['test', '-f', `${remoteDir}/${COMPLETE_MARKER}`], { signal });
  if (probe.code === 0) return remoteDir;
  // Copy exactly the hashed files (no caches) through a staging folder, whatever the transport.
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'p2s-code-'));
  try {
    for (const f of bundle.files) {
      fs.mkdirSync(path.dirname(path.join(staging, f)), { recursive: true });
      fs.copyFileSync(path.join(bundle.dir, f), path.join(staging, f));
    }
    await mkdirRemote(transport, remoteDir, signal);
    await transport.upload(staging, remoteDir, { signal });
    const done = await transport.exec(['touch', `${remoteDir}/${COMPLETE_MARKER}`], { signal });
    if (done.code !== 0) throw new RemoteCommandError(transport.label, 'touch (code bundle)', done.code, done.stderr);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return remoteDir;
}

export async function mkdirRemote(transport: RemoteTransport, remoteDir: string, signal?: AbortSignal): Promise<void> {
  const r = await transport.exec(['mkdir', '-p', remoteDir], { signal });
  if (r.code !== 0) throw new RemoteCommandError(transport.label, `mkdir -p ${remoteDir}`, r.code, r.stderr);
}
