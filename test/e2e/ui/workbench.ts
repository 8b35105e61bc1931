// Driving VS Code's workbench the way a user does: the Explorer's context menu, the command
// palette and quick input boxes. Selectors are VS Code's own classes and ARIA roles.
import type { Page } from './playwright-types';

/** Waits until the workbench shows the workspace's `fileName` in the Explorer. */
export async function waitForExplorerFile(page: Page, fileName: string, timeoutMs: number): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await explorerRow(page, fileName).waitFor({ state: 'visible', timeout: timeoutMs });
}

function explorerRow(page: Page, fileName: string) {
  return page.locator('.explorer-folders-view .monaco-list-row', { hasText: fileName }).first();
}

/**
 * Records, inside the page, the time of every mouse-up: VS Code's context menu runs its command
 * on mouse-up, so this is when the user "clicked" as the workbench saw it.
 */
export async function recordMouseUps(page: Page): Promise<void> {
  await page.evaluate("window.addEventListener('mouseup', () => { window.__p2sMouseUp = Date.now(); }, true)");
}

export async function lastMouseUp(page: Page): Promise<number> {
  return page.evaluate<number>('window.__p2sMouseUp');
}

/**
 * Right-clicks `fileName` in the Explorer and picks `item` from its context menu. Right after the
 * workbench opens, the menu lacks the extension's items until the extension host has registered
 * them: like a user, close the menu and look again.
 */
export async function explorerContextMenu(page: Page, fileName: string, item: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await explorerRow(page, fileName).click({ button: 'right', timeout: Math.max(1000, deadline - Date.now()) });
    const entry = page.getByRole('menuitem', { name: item }).first();
    try {
      await entry.waitFor({ state: 'visible', timeout: 1500 });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the Explorer context menu of ${fileName} has no item ${item}`, { cause: err });
      await page.keyboard.press('Escape');
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    await entry.click({ timeout: 5000 });
    // With a webview focused, VS Code's menu sometimes keeps the click as a hover only (the item
    // highlighted, the menu still open); the keyboard then picks the highlighted item, as a user would.
    try {
      await entry.waitFor({ state: 'hidden', timeout: 2000 });
    } catch {
      await page.keyboard.press('Enter');
      await entry.waitFor({ state: 'hidden', timeout: 5000 });
    }
    return;
  }
}

/** Types into the open quick input (an input box or the palette) and confirms with Enter. */
export async function answerQuickInput(page: Page, text: string, timeoutMs = 15_000): Promise<void> {
  const input = page.locator('.quick-input-widget input.input').first();
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(text, { timeout: timeoutMs });
  await input.press('Enter', { timeout: timeoutMs });
}

/** Runs a command from the command palette (F1) by its full title, e.g. "Pix2Struct: Stop". */
export async function runPaletteCommand(page: Page, title: string, timeoutMs = 15_000): Promise<void> {
  // Focus the workbench, not a webview, so F1 reaches the keybinding service.
  await page.locator('.part.statusbar').first().click({ timeout: timeoutMs });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input').first();
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(`>${title}`, { timeout: timeoutMs });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  await input.press('Enter', { timeout: timeoutMs });
}
