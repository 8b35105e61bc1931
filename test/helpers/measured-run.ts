/**
 * Runs a Node script as a child process and measures its peak memory and wall time, killing
 * it past a memory cap or a time limit so that a runaway case cannot take the machine down.
 *
 * Peak memory is the child's own maximum resident set size (getrusage's ru_maxrss, what GNU
 * `time -f %M` prints), reported by a preloaded hook as the process exits; nothing needs
 * installing. While it runs, /proc/<pid>/status is polled (Linux) for the cap and for a peak
 * even when the child is killed. `ulimit -v` cannot cap Node: V8 reserves far more address
 * space than it uses.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakMb: number;
  /** Why the run was killed, if it was. */
  killed?: string;
}

const HOOK = `process.on('exit', () => { try { require('fs').writeFileSync(process.env.P2S_PEAK_FILE, String(process.resourceUsage().maxRSS)); } catch {} });\n`;

export function measuredRunner(workDir: string, limits: { capMb: number; timeoutMs: number }) {
  const hook = path.join(workDir, 'peak-rss-hook.cjs');
  fs.writeFileSync(hook, HOOK);
  let runs = 0;
  return (script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<MeasuredRun> => {
    const peakFile = path.join(workDir, `peak-${runs++}.txt`);
    const started = performance.now();
    const child = spawn(process.execPath, ['--require', hook, script, ...args], { env: { ...process.env, ...env, P2S_PEAK_FILE: peakFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let polledPeakKb = 0;
    let killed: string | undefined;
    const kill = (why: string) => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const poll = setInterval(() => {
      const status = readStatus(child.pid);
      if (!status) return;
      polledPeakKb = Math.max(polledPeakKb, status.hwmKb);
      if (status.rssKb > limits.capMb * 1024) kill(`over the ${limits.capMb} MB memory cap`);
    }, 20);
    const timer = setTimeout(() => kill(`over the ${limits.timeoutMs} ms time limit`), limits.timeoutMs);
    return new Promise((resolve) => {
      child.on('close', (code) => {
        clearInterval(poll);
        clearTimeout(timer);
        const reportedKb = fs.existsSync(peakFile) ? Number(fs.readFileSync(peakFile, 'utf8')) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started, peakMb: Math.max(reportedKb, polledPeakKb) / 1024, killed });
      });
    });
  };
}

function readStatus(pid: number | undefined): { rssKb: number; hwmKb: number } | null {
  if (pid === undefined) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null; // exited, or not Linux
  }
}
