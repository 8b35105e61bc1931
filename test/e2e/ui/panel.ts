// Reading and operating the Pix2Struct panel: a webview, i.e. the #app document inside VS Code's
// nested webview iframes. Scripts run as strings: tsx would wrap named functions in a helper
// the page does not have.
import type { Frame, Page } from './playwright-types';

export interface PanelState {
  output: string;
  /** pre#output's data-state: running, done, stopped or error. */
  state: string;
  meta: string;
  task: string;
  runDisabled: boolean;
  stopDisabled: boolean;
}

const READ = `(() => {
  const q = (id) => document.getElementById(id);
  return { output: q('output').textContent || '', state: q('output').dataset.state || '', meta: q('meta').textContent || '',
    task: q('task').value, runDisabled: q('run').disabled, stopDisabled: q('stop').disabled };
})()`;

// Counts the panel's runs and stamps when each one's first token reached the DOM, from a
// MutationObserver on the output (its callbacks run right after the update, before the next
// frame is painted). A panel found mid-run counts that run as run 1; if its tokens were already
// there, the stamp is "now" and marked late.
const INSTRUMENT = `(() => {
  if (window.__p2s) return;
  const out = document.getElementById('output');
  const s = window.__p2s = { runs: 0, state: out.dataset.state || '', firstToken: {}, late: {} };
  if (s.state) {
    s.runs = 1;
    if ((out.textContent || '') !== '') { s.firstToken[1] = Date.now(); s.late[1] = true; }
  }
  new MutationObserver(() => {
    const state = out.dataset.state || '';
    if (state === 'running' && s.state !== 'running') s.runs++;
    s.state = state;
    if (state === 'running' && (out.textContent || '') !== '' && !s.firstToken[s.runs]) s.firstToken[s.runs] = Date.now();
  }).observe(out, { childList: true, characterData: true, subtree: true, attributes: true });
})()`;

/**
 * Polls `expression` in the frame until it is truthy. (Playwright's waitForFunction evaluates
 * with eval inside the page, which the panel's CSP forbids; evaluate itself goes through the
 * debugger protocol and is allowed.)
 */
export async function pollFrame(frame: Frame, expression: string, intervalMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await frame.evaluate<unknown>(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting in the panel for: ${expression}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The panel's frame, instrumented (see INSTRUMENT) in the same round trip that finds it, so that
 * a cold run's first token is seen as it arrives. Only webview frames are asked.
 */
export async function findPanelFrame(page: Page, timeoutMs: number): Promise<Frame> {
  const probe = `(() => { if (!document.getElementById('output') || !document.getElementById('app')) return false; ${INSTRUMENT}; return true; })()`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (!/webview/.test(frame.url())) continue;
      if (await frame.evaluate<boolean>(probe).catch(() => false)) return frame;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the Pix2Struct panel did not open within ${timeoutMs} ms`);
}

export function readPanel(frame: Frame): Promise<PanelState> {
  return frame.evaluate<PanelState>(READ);
}

/** How many runs the panel has started since it was instrumented. */
export function runCount(frame: Frame): Promise<number> {
  return frame.evaluate<number>('window.__p2s.runs');
}

/** When the first token of run `run` appeared (epoch ms); late: it was already there when first seen. */
export async function firstTokenAt(frame: Frame, run: number, timeoutMs: number): Promise<{ at: number; late: boolean }> {
  await pollFrame(frame, `!!window.__p2s.firstToken[${run}]`, 20, timeoutMs);
  return frame.evaluate<{ at: number; late: boolean }>(`({ at: window.__p2s.firstToken[${run}], late: !!window.__p2s.late[${run}] })`);
}

/** Waits for a run after the first `afterRuns` to start and end (done, stopped or error). */
export async function waitForRunEnd(frame: Frame, afterRuns: number, timeoutMs: number): Promise<PanelState> {
  await pollFrame(
    frame,
    `window.__p2s.runs > ${afterRuns} && ['done', 'stopped', 'error'].includes(document.getElementById('output').dataset.state) && !document.getElementById('run').disabled`,
    50,
    timeoutMs,
  );
  return readPanel(frame);
}

/** Waits until run `run` is streaming and shows at least `n` tokens (ids or words). */
export async function waitForStreamedTokens(frame: Frame, run: number, n: number, timeoutMs: number): Promise<PanelState> {
  await pollFrame(
    frame,
    `(() => { const o = document.getElementById('output'); return window.__p2s.runs === ${run} && o.dataset.state === 'running' && (o.textContent || '').trim().split(/\\s+/).filter(Boolean).length >= ${n}; })()`,
    20,
    timeoutMs,
  );
  return readPanel(frame);
}

/** Drags the mouse across the panel's image between two points given as fractions of its size. */
export async function dragOnImage(page: Page, frame: Frame, from: [number, number], to: [number, number]) {
  const img = frame.locator('#image');
  const box = await img.boundingBox();
  if (!box) throw new Error('the panel image is not visible');
  const natural = await frame.evaluate<{ w: number; h: number }>("({ w: document.getElementById('image').naturalWidth, h: document.getElementById('image').naturalHeight })");
  const at = ([fx, fy]: [number, number]) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  const [x0, y0] = at(from);
  const [x1, y1] = at(to);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 4 });
  await page.mouse.move(x1, y1, { steps: 4 });
  await page.mouse.up();
  // The box the user meant, in the image's own pixels.
  const px = (f: number, size: number) => Math.round(f * size);
  return {
    x0: px(Math.min(from[0], to[0]), natural.w),
    y0: px(Math.min(from[1], to[1]), natural.h),
    x1: px(Math.max(from[0], to[0]), natural.w),
    y1: px(Math.max(from[1], to[1]), natural.h),
  };
}
