// The suite's side of test/e2e/webview-driver.ts: act on the Pix2Struct panel through the
// runner's playwright (real input events in the webview) and read its DOM.
import type { DriverOp } from '../webview-driver';

export async function inPanel<T = unknown>(op: DriverOp): Promise<T> {
  const url = process.env.PIX2STRUCT_E2E_DRIVER;
  if (!url) throw new Error('PIX2STRUCT_E2E_DRIVER is not set: run through test/e2e/run-extension-tests.ts');
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(op) });
  const reply = (await res.json()) as { ok: true; value: T } | { ok: false; error: string };
  if (!reply.ok) throw new Error(`panel ${op.op}: ${reply.error}`);
  return reply.value;
}

/** Evaluates an expression in the panel's frame (a string: it runs in the browser, not here). */
export const panelEval = <T = unknown>(expression: string) => inPanel<T>({ op: 'eval', script: expression });

/** Polls an expression in the panel until it is truthy; returns its value. */
export async function waitInPanel<T = unknown>(expression: string, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await panelEval<T>(expression);
      if (last) return last as T;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
