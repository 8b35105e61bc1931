// The user's path through the extension, step by step, in a real VS Code workbench with the
// installed .vsix: Describe from the Explorer, Describe again (warm), Ask About Image, Caption
// Widget with a box drawn by mouse, Stop mid-generation. Each step ends with a screenshot.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitForLogLine, firstLogTime } from './logs';
import { dragOnImage, findPanelFrame, firstTokenAt, pollFrame, readPanel, runCount, waitForRunEnd, waitForStreamedTokens, type PanelState } from './panel';
import type { Frame, Page } from './playwright-types';
import { answerQuickInput, explorerContextMenu, lastMouseUp, recordMouseUps, runPaletteCommand, waitForExplorerFile } from './workbench';

export interface ScenarioContext {
  page: Page;
  /** The workbench URL with the workspace folder. */
  url: string;
  imageName: string;
  /** The workspace's .vscode/settings.json (the Stop step raises maxNewTokens in it). */
  settingsFile: string;
  /** VS Code's log folder (user-data/logs): the extension's log channel and the host's log. */
  logsDir: string;
  /** Transformers' greedy ids for the image at the configured patches and token limit. */
  expectedIds: number[];
  question: string;
  screenshotDir: string;
  deadline: number;
}

export interface StepResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  screenshot?: string;
}

export interface Timings {
  /** Describe click (mouse-up in the context menu) → "Pix2Struct activated" in its log channel. */
  activationMs?: number;
  /** Describe click → the extension host starts activating it (its log's _doActivateExtension line). */
  activationStartMs?: number;
  /** Describe click → first streamed token visible in the panel, extension and model cold. */
  firstTokenColdMs?: number;
  /** Describe click → the panel's webview document is up (found and instrumented by the test). */
  panelUpColdMs?: number;
  /** Describe click → the extension host logs the cold run's end (all tokens generated). */
  runDoneInHostColdMs?: number;
  /** The same for a second Describe, with the model loaded. */
  firstTokenWarmMs?: number;
  /** Stop clicked → the panel shows the run stopped. */
  stopLatencyMs?: number;
  /** The panel's own timing line after each run. */
  panelTimings: Record<string, string>;
  notes: string[];
}

// The settings ask for fp32, and the line must say which provider and precision ran.
const TOKEN_LINE = /^(\d+) tokens · preprocess \d+ ms · encoder \d+ ms · decoder \d+ ms.* · cpu · fp32$/;

function remaining(ctx: ScenarioContext, capMs: number): number {
  return Math.max(1000, Math.min(capMs, ctx.deadline - Date.now()));
}

function words(s: string): string[] {
  return s.trim().split(/\s+/).filter(Boolean);
}

function writeSettings(file: string, patch: Record<string, unknown>): void {
  const current = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify({ ...current, ...patch }, null, 2) + '\n');
}

export async function runScenario(ctx: ScenarioContext): Promise<{ steps: StepResult[]; timings: Timings }> {
  const { page } = ctx;
  const timings: Timings = { panelTimings: {}, notes: [] };
  const steps: StepResult[] = [];
  let frame: Frame | undefined;
  let describeOutput = '';
  const panel = () => {
    if (!frame) throw new Error('the panel is not open (an earlier step failed)');
    return frame;
  };

  const step = async (name: string, fn: () => Promise<void>) => {
    const started = Date.now();
    const result: StepResult = { name, ok: false, ms: 0 };
    if (steps.some((s) => !s.ok)) {
      result.error = 'skipped: an earlier step failed';
      steps.push(result);
      return;
    }
    try {
      await fn();
      result.ok = true;
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
    }
    result.ms = Date.now() - started;
    const shot = path.join(ctx.screenshotDir, `ui-${String(steps.length + 1).padStart(2, '0')}-${name.replace(/\W+/g, '-').toLowerCase()}.png`);
    try {
      await page.screenshot({ path: shot, timeout: 15_000 });
      result.screenshot = shot;
    } catch {
      /* a screenshot failure must not hide the step's own result */
    }
    steps.push(result);
    console.log(`  ${result.ok ? 'ok  ' : 'FAIL'} ${name} (${result.ms} ms)${result.error ? `\n        ${result.error.split('\n').join('\n        ')}` : ''}`);
  };

  /** Waits for the run after the first `afterRuns` to end well, and keeps its timing line. */
  const finishRun = async (label: string, afterRuns: number): Promise<PanelState> => {
    const state = await waitForRunEnd(panel(), afterRuns, remaining(ctx, 120_000));
    assert.equal(state.state, 'done', `${label}: the run ended ${state.state}: ${state.meta}`);
    assert.match(state.meta, TOKEN_LINE, `${label}: no timing line under the output`);
    timings.panelTimings[label] = state.meta;
    return state;
  };

  await step('workbench opens the workspace', async () => {
    await page.goto(ctx.url, { waitUntil: 'domcontentloaded', timeout: remaining(ctx, 60_000) });
    await waitForExplorerFile(page, ctx.imageName, remaining(ctx, 60_000));
    await recordMouseUps(page);
  });

  await step('Describe Image from the Explorer (cold)', async () => {
    await explorerContextMenu(page, ctx.imageName, /^Describe Image$/);
    const clickedAt = await lastMouseUp(page);
    frame = await findPanelFrame(page, remaining(ctx, 120_000));
    timings.panelUpColdMs = Date.now() - clickedAt;
    const first = await firstTokenAt(frame, 1, remaining(ctx, 120_000));
    timings.firstTokenColdMs = first.at - clickedAt;
    if (first.late) timings.notes.push('cold first token: the panel frame was found after the first token; the time is an upper bound');
    const activated = await waitForLogLine(ctx.logsDir, (n) => /Pix2Struct\.log$/.test(n), /Pix2Struct activated/, remaining(ctx, 30_000));
    timings.activationMs = activated.at - clickedAt;
    const start = firstLogTime(ctx.logsDir, (n) => /exthost\.log$/.test(n), /_doActivateExtension pix2struct-vscode\.pix2struct-vscode\b/);
    if (start) timings.activationStartMs = start.at - clickedAt;
    else timings.notes.push('the extension host log has no _doActivateExtension line for the extension');
    const state = await finishRun('describe (cold)', 0);
    const hostDone = firstLogTime(ctx.logsDir, (n) => /Pix2Struct\.log$/.test(n), /\brun 1: \d+ tokens/);
    if (hostDone) timings.runDoneInHostColdMs = hostDone.at - clickedAt;
    assert.equal(state.output, ctx.expectedIds.join(' '), 'the panel shows the transformers greedy ids for the image');
    assert.equal(Number(TOKEN_LINE.exec(state.meta)![1]), ctx.expectedIds.length - 1);
    describeOutput = state.output;
  });

  await step('Describe Image again (model loaded)', async () => {
    const runs = await runCount(panel());
    await explorerContextMenu(page, ctx.imageName, /^Describe Image$/);
    const clickedAt = await lastMouseUp(page);
    const first = await firstTokenAt(panel(), runs + 1, remaining(ctx, 60_000));
    timings.firstTokenWarmMs = first.at - clickedAt;
    const state = await finishRun('describe (warm)', runs);
    assert.equal(state.output, describeOutput, 'the same image gives the same answer');
  });

  await step('Ask About Image with a typed question', async () => {
    const runs = await runCount(panel());
    await explorerContextMenu(page, ctx.imageName, /^Ask About Image/);
    await answerQuickInput(page, ctx.question);
    // The panel names the question while the answer streams and after it.
    await pollFrame(panel(), `document.getElementById('meta').textContent.includes(${JSON.stringify(`Q: ${ctx.question}`)}) || document.getElementById('output').dataset.state === 'done'`, 20, remaining(ctx, 30_000));
    const state = await finishRun('ask', runs);
    assert.ok(words(state.output).length > 1, 'an answer was shown');
    assert.notEqual(state.output, describeOutput, 'the question is rendered into the image the model sees, so the answer differs from the caption');
  });

  await step('Caption Widget: draw a box on the image and run', async () => {
    await runPaletteCommand(page, 'Pix2Struct: Caption Widget (draw a box)');
    const f = panel();
    await pollFrame(f, "document.getElementById('task').value === 'widget'", 50, remaining(ctx, 15_000));
    const intended = await dragOnImage(page, f, [0.15, 0.2], [0.55, 0.6]);
    const shown = /Box (\d+),(\d+) – (\d+),(\d+)/.exec((await readPanel(f)).meta);
    assert.ok(shown, 'the panel reports the drawn box');
    const [x0, y0, x1, y1] = shown.slice(1).map(Number);
    for (const [got, want, name] of [[x0, intended.x0, 'x0'], [y0, intended.y0, 'y0'], [x1, intended.x1, 'x1'], [y1, intended.y1, 'y1']] as const) {
      assert.ok(Math.abs(got! - want) <= 3, `box ${name}: ${got} in the panel, ${want} dragged`);
    }
    const runs = await runCount(f);
    await f.locator('#run').click();
    const state = await finishRun('widget', runs);
    assert.ok(words(state.output).length > 1, 'a caption was shown');
    assert.notEqual(state.output, describeOutput, 'the box is drawn into the input, so the caption differs from the plain one');
    // The box survives the run: Run again without redrawing captions the same widget.
    const again = await runCount(f);
    await f.locator('#run').click();
    const second = await finishRun('widget again', again);
    assert.equal(second.output, state.output, 'a second Run on the same box gives the same caption');
  });

  await step('Stop mid-generation', async () => {
    // The setting's maximum: with the KV cache the fixture model streams ~450 tokens a second, and
    // a screenshot comes between the first tokens and the click, so a smaller budget can finish first.
    const limit = 4096;
    writeSettings(ctx.settingsFile, { 'pix2struct.maxNewTokens': limit });
    const f = panel();
    await f.locator('#task').selectOption('describe');
    // VS Code notices the edited settings file within a moment; a run that still ends at the old
    // limit is simply run again.
    let stoppedAt = 0;
    let state: PanelState | undefined;
    for (let attempt = 0; attempt < 5 && !stoppedAt; attempt++) {
      await new Promise((r) => setTimeout(r, 1000));
      const runs = await runCount(f);
      await f.locator('#run').click();
      try {
        await waitForStreamedTokens(f, runs + 1, ctx.expectedIds.length + 5, remaining(ctx, 30_000));
      } catch {
        await waitForRunEnd(f, runs, remaining(ctx, 30_000));
        continue;
      }
      await page.screenshot({ path: path.join(ctx.screenshotDir, 'ui-06-streaming-before-stop.png'), timeout: 15_000 });
      await f.locator('#stop').click();
      stoppedAt = Date.now();
      state = await waitForRunEnd(f, runs, remaining(ctx, 30_000));
    }
    assert.ok(stoppedAt && state, `maxNewTokens ${limit} never took effect`);
    timings.stopLatencyMs = Date.now() - stoppedAt;
    assert.equal(state.state, 'stopped', `the run ended ${state.state}: ${state.meta}`);
    assert.equal(state.meta, 'Stopped.');
    const shown = words(state.output).length;
    assert.ok(shown >= ctx.expectedIds.length + 5 && shown < limit, `${shown} tokens were streamed before Stop`);
    timings.notes.push(`Stop: ${shown} of up to ${limit} tokens were streamed when it took effect`);
  });

  return { steps, timings };
}
