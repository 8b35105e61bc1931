import { execFile } from 'node:child_process';
import screenshot from 'screenshot-desktop';

export interface Display {
  id: string | number;
  name: string;
}

/** screenshot-desktop's promises never settle on Linux when xrandr is missing; never wait forever. */
const CAPTURE_TIMEOUT_MS = 15_000;

export class CaptureError extends Error {}

function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaptureError(`${what} did not finish within ${timeoutMs / 1000} s (is the X server responding?)`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function hasCommand(command: string): Promise<boolean> {
  return new Promise((resolve) => execFile('which', [command], (err) => resolve(!err)));
}

/**
 * What is missing for a capture on this machine, with the fix, or null when it can work.
 * On Linux screenshot-desktop drives xrandr and ImageMagick's import on an X11 display.
 */
export async function captureProblem(env: NodeJS.ProcessEnv = process.env, platform = process.platform): Promise<string | null> {
  if (platform !== 'linux') return null;
  if (!env.DISPLAY) return 'no X11 display (DISPLAY is not set); screen capture needs an X11 or XWayland session';
  const missing: string[] = [];
  if (!(await hasCommand('xrandr'))) missing.push('xrandr (Debian/Ubuntu: sudo apt-get install x11-xserver-utils)');
  if (!(await hasCommand('import'))) missing.push('ImageMagick import (Debian/Ubuntu: sudo apt-get install imagemagick)');
  return missing.length ? `screen capture needs ${missing.join(' and ')}` : null;
}

export async function listDisplays(timeoutMs = CAPTURE_TIMEOUT_MS): Promise<Display[]> {
  const problem = await captureProblem();
  if (problem) throw new CaptureError(problem);
  const displays = await withTimeout(screenshot.listDisplays(), 'listing displays', timeoutMs);
  return displays.map((d) => ({ id: d.id, name: d.name ?? String(d.id) }));
}

/** A PNG of one display. */
export async function captureDisplay(id: Display['id'], timeoutMs = CAPTURE_TIMEOUT_MS): Promise<Buffer> {
  const problem = await captureProblem();
  if (problem) throw new CaptureError(problem);
  return withTimeout(screenshot({ screen: id, format: 'png' }), 'capturing the screen', timeoutMs);
}
