// The part of playwright-core's API the UI tests use. playwright-core is not a dependency of the
// repository: the runner require()s it from the code-server install (scripts/setup-code-server.sh).

export interface BoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Locator {
  click(options?: { button?: 'left' | 'right'; timeout?: number }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  press(key: string, options?: { timeout?: number }): Promise<void>;
  waitFor(options?: { state?: 'attached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  boundingBox(): Promise<BoundingBox | null>;
  textContent(): Promise<string | null>;
  selectOption(value: string): Promise<string[]>;
  first(): Locator;
  screenshot(options: { path: string; timeout?: number }): Promise<Buffer>;
}

export interface Frame {
  url(): string;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  evaluate<T, A = undefined>(fn: string | ((arg: A) => T | Promise<T>), arg?: A): Promise<T>;
  frameElement(): Promise<{ boundingBox(): Promise<BoundingBox | null> }>;
}

export interface Page extends Frame {
  goto(url: string, options?: { waitUntil?: 'load' | 'domcontentloaded'; timeout?: number }): Promise<unknown>;
  frames(): Frame[];
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
  mouse: { move(x: number, y: number, options?: { steps?: number }): Promise<void>; down(): Promise<void>; up(): Promise<void> };
  screenshot(options: { path: string; timeout?: number }): Promise<Buffer>;
  on(event: 'console', listener: (msg: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', listener: (err: Error) => void): void;
}

export interface Browser {
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}

export interface PlaywrightCore {
  chromium: { launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> };
}
