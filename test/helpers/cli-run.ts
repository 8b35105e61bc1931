import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** The CLI as users run it: the built bundle (npm run build). */
export const CLI = path.resolve(__dirname, '../../dist/cli.js');

/**
 * Runs the CLI without blocking this process, which may be serving a local Hub the CLI talks to.
 * HF_TOKEN and HF_HUB_OFFLINE are cleared so the caller's environment cannot change the outcome.
 */
export function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
