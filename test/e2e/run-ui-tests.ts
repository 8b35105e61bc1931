// UI end-to-end test, the way a user works: the linux-x64 .vsix (npm run package) installed into
// code-server with `--install-extension`, a workspace with an image and the tiny fixture model in
// .vscode/settings.json, and the workbench driven in Debian's chromium through playwright-core
// (test/e2e/ui/scenario.ts: Explorer context menu, quick input, command palette, mouse drags in
// the panel's webview). Screenshots go to test-results/ui-*.png, the measured activation and
// first-token times to test-results/ui-timings.json.
//
//   node --import tsx test/e2e/run-ui-tests.ts [--vsix FILE] [--no-package] [--timeout-s N] [--keep] [--verbose]
//
// Without --vsix it packages dist-vsix/…-linux-x64-….vsix first (building dist/ if missing;
// --no-package reuses an existing one). Exit code: 0 all steps passed, 1 a step failed (or
// code-server is not installed; 0 then with PIX2STRUCT_E2E_OPTIONAL=1), 2 a timeout or harness
// error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, killProcessGroup } from '../helpers/processes';
import { codeServerDirs, codeServerEnv, findCodeServer, installVsix } from '../helpers/code-server';
import type { Browser, Page, PlaywrightCore } from './ui/playwright-types';
import { runScenario, type StepResult } from './ui/scenario';

const REPO = path.resolve(__dirname, '../..');
const FIXTURE_ROOT = path.resolve(process.env.PIX2STRUCT_FIXTURE ?? path.join(REPO, '../shared/fixtures/pix2struct-tiny'));
const RESULTS = path.join(REPO, 'test-results');
const IMAGE = 'chart_640x480.png';
const QUESTION = 'What is the highest value?';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Options {
  vsix: string | undefined;
  packageFirst: boolean;
  timeoutMs: number;
  keep: boolean;
  verbose: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    vsix: undefined,
    packageFirst: true,
    timeoutMs: Number(process.env.PIX2STRUCT_UI_TIMEOUT_S ?? 300) * 1000,
    keep: false,
    verbose: process.env.PIX2STRUCT_E2E_VERBOSE === '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--vsix') opts.vsix = path.resolve(value());
    else if (a === '--no-package') opts.packageFirst = false;
    else if (a === '--timeout-s') opts.timeoutMs = Number(value()) * 1000;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--verbose') opts.verbose = true;
    else usage(`unknown argument ${a}`);
  }
  if (!(opts.timeoutMs > 0)) usage('--timeout-s must be a positive number');
  return opts;
}

function usage(message: string): never {
  console.error(`run-ui-tests: ${message}`);
  console.error('usage: node --import tsx test/e2e/run-ui-tests.ts [--vsix FILE] [--no-package] [--timeout-s N] [--keep] [--verbose]');
  process.exit(2);
}

/** The linux-x64 .vsix to install: the given one, or npm run package's (made now unless --no-package). */
function vsixToInstall(opts: Options): string {
  if (opts.vsix) {
    if (!fs.existsSync(opts.vsix)) throw new Error(`--vsix ${opts.vsix} does not exist`);
    return opts.vsix;
  }
  const version = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
  const vsix = path.join(REPO, 'dist-vsix', `pix2struct-vscode-linux-x64-${version}.vsix`);
  if (opts.packageFirst) {
    const args = [path.join(REPO, 'scripts/package.mjs'), '--target', 'linux-x64'];
    if (fs.existsSync(path.join(REPO, 'dist/extension.js'))) args.push('--no-build');
    const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
    console.log(`run-ui-tests: packaged ${path.relative(REPO, vsix)}`);
  }
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run npm run package (or drop --no-package)`);
  return vsix;
}

async function waitForServer(port: number, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited early (code ${child.exitCode})`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('code-server did not start listening in time');
}

/**
 * The workspace a user would have: the chart image and settings pointing every task used here at
 * the tiny fixture model. Ask needs a VQA checkpoint (the question is rendered into the image), so
 * questionModelPath is a copy of the fixture with is_vqa set, outside the workspace.
 */
function makeWorkspace(root: string, expectedIds: number[]): { workspace: string; settingsFile: string } {
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.copyFileSync(path.join(FIXTURE_ROOT, 'images', IMAGE), path.join(workspace, IMAGE));
  const model = path.join(FIXTURE_ROOT, 'model-a');
  const vqa = path.join(root, 'model-a-vqa');
  fs.mkdirSync(vqa);
  for (const f of fs.readdirSync(model)) fs.copyFileSync(path.join(model, f), path.join(vqa, f));
  const config = JSON.parse(fs.readFileSync(path.join(vqa, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(vqa, 'config.json'), JSON.stringify({ ...config, is_vqa: true }));
  const settingsFile = path.join(workspace, '.vscode/settings.json');
  const settings = {
    'pix2struct.modelPath': model,
    'pix2struct.questionModelPath': vqa,
    'pix2struct.widgetModelPath': model,
    // The fixture's transformers reference was computed at 256 patches.
    'pix2struct.maxPatches': 256,
    'pix2struct.maxNewTokens': expectedIds.length - 1,
    // The reference ids are float32 arithmetic; auto would pick int8 on VNNI/AMX CPUs.
    'pix2struct.precision': 'fp32',
  };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
  return { workspace, settingsFile };
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const install = findCodeServer();
  if ('missing' in install) {
    console.error(`run-ui-tests: not installed: ${install.missing.join(', ')}`);
    console.error('  install with: bash scripts/setup-code-server.sh   (needs root for apt-get; a few minutes)');
    return process.env.PIX2STRUCT_E2E_OPTIONAL === '1' ? 0 : 1;
  }
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const index = JSON.parse(fs.readFileSync(path.join(FIXTURE_ROOT, 'index.json'), 'utf8'));
  const expectedIds: number[] = index.models['model-a'].images.chart.greedy_ids;

  const vsix = vsixToInstall(opts);
  const tmp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-ui-'));
  const dirs = codeServerDirs(tmp);
  const installStarted = Date.now();
  const extDir = installVsix(install, dirs, vsix);
  console.log(`run-ui-tests: installed ${path.basename(vsix)} into ${extDir} in ${Date.now() - installStarted} ms`);
  const { workspace, settingsFile } = makeWorkspace(tmp, expectedIds);
  // A quiet first start (no welcome page, no chat side bar), as a returning user has it.
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.userData, 'User/settings.json'),
    JSON.stringify({ 'workbench.startupEditor': 'none', 'workbench.secondarySideBar.defaultVisibility': 'hidden' }, null, 2) + '\n',
  );
  fs.mkdirSync(RESULTS, { recursive: true });
  for (const f of fs.readdirSync(RESULTS)) if (/^ui-.*\.png$/.test(f)) fs.rmSync(path.join(RESULTS, f));

  const port = await freePort();
  const serverLog = fs.createWriteStream(path.join(tmp, 'server.log'));
  const server = spawn(
    install.node,
    [
      install.entry,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--bind-addr', `127.0.0.1:${port}`,
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
      workspace,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: codeServerEnv(dirs) },
  );
  for (const stream of [server.stdout!, server.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      serverLog.write(chunk);
      if (opts.verbose) process.stdout.write(`[server] ${chunk}`);
    });
  }
  const onSignal = () => void killProcessGroup(server).then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let browser: Browser | undefined;
  let steps: StepResult[] = [];
  let exitCode = 2;
  let timer: NodeJS.Timeout | undefined;
  try {
    await waitForServer(port, server, Math.min(deadline, Date.now() + 60_000));
    console.log(`run-ui-tests: code-server on port ${port} ready after ${Date.now() - started} ms; workspace ${workspace}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const playwright = require(install.playwrightCore) as PlaywrightCore;
    browser = await playwright.chromium.launch({ executablePath: install.chromium, headless: true, args: CHROMIUM_ARGS });
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    if (opts.verbose) page.on('console', (m) => console.log(`[browser ${m.type()}] ${m.text()}`));

    const scenario = runScenario({
      page,
      url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`,
      imageName: IMAGE,
      settingsFile,
      logsDir: path.join(dirs.userData, 'logs'),
      expectedIds,
      question: QUESTION,
      screenshotDir: RESULTS,
      deadline,
    });
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
    });
    const outcome = await Promise.race([scenario, timedOut]);
    if (!outcome) {
      console.error(`run-ui-tests: TIMED OUT after ${Math.round(opts.timeoutMs / 1000)} s`);
    } else {
      steps = outcome.steps;
      exitCode = steps.every((s) => s.ok) ? 0 : 1;
      const vscodeVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(install.entry), '../../lib/vscode/package.json'), 'utf8')).version;
      const report = {
        ...outcome.timings,
        measuredAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, platform: `${process.platform}-${process.arch}` },
        vscode: vscodeVersion,
        vsix: path.basename(vsix),
        steps: steps.map(({ name, ok, ms }) => ({ name, ok, ms })),
      };
      fs.writeFileSync(path.join(RESULTS, 'ui-timings.json'), JSON.stringify(report, null, 2) + '\n');
      console.log(`run-ui-tests: timings ${JSON.stringify(outcome.timings)}`);
      console.log(`run-ui-tests: wrote ${path.relative(REPO, path.join(RESULTS, 'ui-timings.json'))} and ${steps.filter((s) => s.screenshot).length} screenshots`);
    }
  } catch (err) {
    console.error(`run-ui-tests: ${err instanceof Error ? err.stack : String(err)}`);
    exitCode = 2;
  } finally {
    clearTimeout(timer);
    if (browser) await browser.close().catch(() => undefined);
    await killProcessGroup(server);
    serverLog.end();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  console.log(`run-ui-tests: exit ${exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (opts.keep || exitCode !== 0) console.log(`run-ui-tests: logs kept in ${tmp} (server.log, user-data/logs)`);
  else fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`ui: ${steps.filter((s) => s.ok).length} passed, ${steps.filter((s) => !s.ok).length + (steps.length === 0 ? 1 : 0)} failed`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`run-ui-tests: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
