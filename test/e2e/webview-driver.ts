// Lets extension-host tests act on the Pix2Struct panel like a user: the runner serves a small
// HTTP endpoint on 127.0.0.1 (its URL reaches the extension host as PIX2STRUCT_E2E_DRIVER) and
// performs each request in the panel's webview frame through playwright: real mouse drags, wheel
// turns, clicks and key presses, and reads of the DOM. The suite side is suite/panel-driver.ts.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The subset of playwright's Page and Frame the driver uses. */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Locator {
  boundingBox(): Promise<Box | null>;
  click(): Promise<void>;
  hover(): Promise<void>;
  press(key: string): Promise<void>;
}
interface Frame {
  evaluate<T>(script: string): Promise<T>;
  locator(selector: string): Locator;
}
export interface DriverPage {
  frames(): Frame[];
  mouse: {
    move(x: number, y: number, options?: { steps?: number }): Promise<void>;
    down(): Promise<void>;
    up(): Promise<void>;
    wheel(dx: number, dy: number): Promise<void>;
  };
  keyboard: { down(key: string): Promise<void>; up(key: string): Promise<void> };
}

export type DriverOp =
  | { op: 'eval'; script: string }
  | { op: 'click'; selector: string }
  /** Moves the mouse over the element's centre. */
  | { op: 'hover'; selector: string }
  | { op: 'press'; selector: string; key: string }
  /** Offsets in CSS pixels from the element's top-left corner. */
  | { op: 'drag'; selector: string; from: [number, number]; to: [number, number] }
  | { op: 'wheel'; selector: string; at: [number, number]; deltaY: number; ctrl: boolean };

async function panelFrame(page: DriverPage): Promise<Frame> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const frame of page.frames()) {
      const isPanel = await frame.evaluate<boolean>("document.getElementById('app') !== null && document.getElementById('viewport') !== null").catch(() => false);
      if (isPanel) return frame;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the Pix2Struct panel frame was not found (is the panel open?)');
}

async function boxOf(frame: Frame, selector: string): Promise<Box> {
  const box = await frame.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible in the panel`);
  return box;
}

async function perform(page: DriverPage, op: DriverOp): Promise<unknown> {
  const frame = await panelFrame(page);
  switch (op.op) {
    case 'eval':
      return frame.evaluate(op.script);
    case 'click':
      return frame.locator(op.selector).click();
    case 'hover':
      return frame.locator(op.selector).hover();
    case 'press':
      return frame.locator(op.selector).press(op.key);
    case 'drag': {
      const b = await boxOf(frame, op.selector);
      await page.mouse.move(b.x + op.from[0], b.y + op.from[1]);
      await page.mouse.down();
      await page.mouse.move(b.x + op.to[0], b.y + op.to[1], { steps: 8 });
      await page.mouse.up();
      return b;
    }
    case 'wheel': {
      const b = await boxOf(frame, op.selector);
      await page.mouse.move(b.x + op.at[0], b.y + op.at[1]);
      if (op.ctrl) await page.keyboard.down('Control');
      try {
        await page.mouse.wheel(0, op.deltaY);
      } finally {
        if (op.ctrl) await page.keyboard.up('Control');
      }
      return b;
    }
  }
}

/** Starts the endpoint; `page()` is the workbench page once it exists. */
export async function startWebviewDriver(page: () => DriverPage | undefined): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      try {
        const p = page();
        if (!p) throw new Error('the workbench page is not open yet');
        reply(200, { ok: true, value: (await perform(p, JSON.parse(body) as DriverOp)) ?? null });
      } catch (err) {
        reply(200, { ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
