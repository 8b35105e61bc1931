// Runs the extension-host test suite (test/e2e/suite) inside a REAL VS Code: VS Code's own server
// from the npm package code-server (installed by scripts/setup-code-server.sh into
// .cache/code-server/), opened in Debian's chromium through playwright-core, with the extension
// loaded as extensionDevelopmentPath and dist/test/e2e/suite/index.js as extensionTestsPath. The
// workbench's smoke-test driver exposes codeAutomationLog / codeAutomationExit, which is how the
// exit code of the suite comes back (the same mechanism @vscode/test-web uses).
//
//   node --import tsx test/e2e/run-extension-tests.ts [--name NAME] [--extension DIR]
//        [--grep SUBSTRING] [--no-build] [--timeout-s N] [--keep] [--verbose]
//
// Exit code: the suite's (0 all passed, 1 a test failed); 2 for a timeout (5 minutes by default) or
// a harness problem; code-server missing: 1, or 0 with PIX2STRUCT_E2E_OPTIONAL=1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCodeServer } from '../helpers/code-server';
import { freePort, killProcessGroup } from '../helpers/processes';
import { startWebviewDriver } from './webview-driver';

const REPO = path.resolve(__dirname, '../..');
const FIXTURE_ROOT = path.resolve(
  process.env.PIX2STRUCT_FIXTURE ?? path.join(__dirname, '../../../shared/fixtures/pix2struct-tiny'),
);
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface Options {
  name: string;
  extension: string;
  grep: string | undefined;
  build: boolean;
  timeoutMs: number;
  keep: boolean;
  verbose: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    name: 'suite',
    extension: process.env.PIX2STRUCT_E2E_EXTENSION ?? REPO,
    grep: process.env.PIX2STRUCT_E2E_GREP,
    build: true,
    timeoutMs: Number(process.env.PIX2STRUCT_E2E_TIMEOUT_S ?? 300) * 1000,
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
    if (a === '--name') opts.name = value();
    else if (a === '--extension') opts.extension = path.resolve(value());
    else if (a === '--grep') opts.grep = value();
    else if (a === '--no-build') opts.build = false;
    else if (a === '--timeout-s') opts.timeoutMs = Number(value()) * 1000;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--verbose') opts.verbose = true;
    else usage(`unknown argument ${a}`);
  }
  if (!/^[\w.-]+$/.test(opts.name)) usage(`--name must be a plain file-name part, got ${opts.name}`);
  if (!(opts.timeoutMs > 0)) usage('--timeout-s must be a positive number');
  return opts;
}

function usage(message: string): never {
  console.error(`run-extension-tests: ${message}`);
  console.error(
    'usage: node --import tsx test/e2e/run-extension-tests.ts [--name NAME] [--extension DIR] [--grep S] [--no-build] [--timeout-s N] [--keep] [--verbose]',
  );
  process.exit(2);
}

/** A workspace with the chart fixture and the tiny model configured. */
function makeWorkspace(root: string): string {
  const ws = path.join(root, 'workspace');
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  const image = path.join(FIXTURE_ROOT, 'images/chart_640x480.png');
  if (!fs.existsSync(image)) throw new Error(`fixture image missing: ${image} (set PIX2STRUCT_FIXTURE)`);
  fs.copyFileSync(image, path.join(ws, 'chart_640x480.png'));
  // fp32: the suites compare ids with the transformers reference (auto would pick int8 on VNNI/AMX CPUs).
  const settings = { 'pix2struct.modelPath': path.join(FIXTURE_ROOT, 'model-a'), 'pix2struct.precision': 'fp32' };
  fs.writeFileSync(path.join(ws, '.vscode/settings.json'), JSON.stringify(settings, null, 2) + '\n');
  return ws;
}

/** Resolves once the server answers HTTP on the port (or rejects when it exits first). */
async function waitForServer(port: number, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`VS Code server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('VS Code server did not start listening in time');
}

// Workbench chatter with no network and no GitHub sign-in; still written to automation.log (and
// printed with --verbose).
const WORKBENCH_NOISE = [
  /^\[(AgentHost|AccountPolicyGate|ChatModelSelection|reconnection-grace-time|Service Worker)\]/,
  /^(Creating a socket|Resolving connection token|Resolved connection token|Updating additional builtin extensions cache)/,
  /ENOTFOUND (open-vsx\.org|marketplace|api\.github)/,
  /^Timed out waiting for authentication provider/,
  /^Canceled: Canceled/,
];

function isWorkbenchNoise(line: string): boolean {
  return WORKBENCH_NOISE.some((re) => re.test(line));
}

function formatLogArgs(args: unknown): string {
  const list = Array.isArray(args) ? args : [args];
  return list.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const install = findCodeServer();
  if ('missing' in install) {
    console.error(`run-extension-tests: not installed: ${install.missing.join(', ')}`);
    console.error('run-extension-tests: code-server (VS Code server), Node 24, playwright-core or chromium is not installed.');
    console.error('  install with: bash scripts/setup-code-server.sh   (needs root for apt-get; a few minutes)');
    if (process.env.PIX2STRUCT_E2E_OPTIONAL === '1') {
      console.error('run-extension-tests: PIX2STRUCT_E2E_OPTIONAL=1, skipping the e2e tests');
      return 0;
    }
    return 1;
  }

  // The extension under test.
  const extPkgPath = path.join(opts.extension, 'package.json');
  if (!fs.existsSync(extPkgPath)) throw new Error(`no package.json in extension folder ${opts.extension}`);
  const extPkg = JSON.parse(fs.readFileSync(extPkgPath, 'utf8'));
  const main = extPkg.main ?? extPkg.browser;
  if (!main) throw new Error(`${extPkgPath} has no "main": build the extension (npm run build) first`);
  const mainFile = path.resolve(opts.extension, main);
  if (!fs.existsSync(mainFile) && !fs.existsSync(`${mainFile}.js`)) {
    throw new Error(`extension entry ${mainFile} does not exist: run npm run build first`);
  }

  // The suite bundle.
  const suiteFile = path.join(REPO, 'dist/test/e2e/suite/index.js');
  if (opts.build) {
    const args = [path.join(REPO, 'test/e2e/build-suite.mjs'), ...(opts.grep ? ['--grep', opts.grep] : [])];
    const r = spawnSync(process.execPath, args, { cwd: REPO, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the e2e suite failed');
  } else if (!fs.existsSync(suiteFile)) {
    throw new Error(`${suiteFile} is missing: run node test/e2e/build-suite.mjs`);
  }

  const tmp = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'p2s-e2e-'));
  const workspace = makeWorkspace(tmp);
  const reportPath = path.join(tmp, 'report.json');
  const serverLog = path.join(tmp, 'server.log');
  const port = await freePort();
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  console.log(`run-extension-tests: VS Code server on port ${port}, workspace ${workspace}, extension ${opts.extension}`);

  const logStream = fs.createWriteStream(serverLog);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let page: any;
  const driver = await startWebviewDriver(() => page);
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PIX2STRUCT_E2E_REPORT: reportPath,
    XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'),
    XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
    PIX2STRUCT_E2E_DRIVER: driver.url,
  };
  for (const k of Object.keys(serverEnv)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete serverEnv[k];
  // A virtual X display for Capture Screenshot, inherited by the extension host.
  const xvfbDisplay = `:${50 + (port % 40)}`;
  const xvfb = spawn('Xvfb', [xvfbDisplay, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { detached: true, stdio: 'ignore' });
  xvfb.on('error', () => console.error('run-extension-tests: Xvfb could not start (apt-get install xvfb); capture tests will fail'));
  serverEnv.DISPLAY = xvfbDisplay;
  const server = spawn(
    install.node,
    [
      install.serverMain,
      '--host', '127.0.0.1',
      '--port', String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--disable-telemetry',
      '--enable-smoke-test-driver',
      '--disable-workspace-trust',
      '--user-data-dir', path.join(tmp, 'user-data'),
      '--extensions-dir', path.join(tmp, 'extensions'),
      '--server-data-dir', path.join(tmp, 'server-data'),
    ],
    {
      detached: true, // its own process group, killed as a group at the end
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv,
    },
  );
  for (const stream of [server.stdout!, server.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      logStream.write(chunk);
      if (opts.verbose) process.stdout.write(`[server] ${chunk}`);
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let browser: any;
  let cspCheck: { ok: boolean; detail: string } | undefined;
  let exitCode = 2;
  let timer: NodeJS.Timeout | undefined;
  const onSignal = () => {
    void killProcessGroup(server).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await waitForServer(port, server, Math.min(deadline, Date.now() + 60_000));
    console.log(`run-extension-tests: server ready in ${Date.now() - started} ms`);

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require(install.playwrightCore);
    browser = await chromium.launch({ executablePath: install.chromium, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });

    let settle!: (code: number) => void;
    const finished = new Promise<number>((resolve) => (settle = resolve));
    const automationLog = fs.createWriteStream(path.join(tmp, 'automation.log'));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const line = formatLogArgs(args);
      automationLog.write(`[${type}] ${line}\n`);
      if (!opts.verbose && isWorkbenchNoise(line)) return;
      if (type === 'error') console.error(line);
      else console.log(line);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => {
      console.log(`run-extension-tests: the suite exited with code ${code}`);
      settle(code);
    });
    page.on('pageerror', (err: Error) => opts.verbose && console.error(`[page error] ${err.message}`));
    page.on('console', (msg: { type(): string; text(): string }) => {
      if (opts.verbose) console.log(`[browser ${msg.type()}] ${msg.text()}`);
    });
    page.on('crash', () => {
      console.error('run-extension-tests: the page crashed');
      settle(2);
    });

    const authority = `127.0.0.1:${port}`;
    const remote = (p: string) => `vscode-remote://${authority}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(opts.extension)],
      ['extensionTestsPath', remote(suiteFile)],
    ];
    const url =
      `http://${authority}/?folder=${encodeURIComponent(workspace)}` +
      `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    if (opts.verbose) console.log(`run-extension-tests: opening ${url}`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: Math.max(1000, deadline - Date.now()) });

    const timedOut = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        console.error(
          `run-extension-tests: TIMED OUT after ${Math.round(opts.timeoutMs / 1000)} s without codeAutomationExit (server log: ${serverLog})`,
        );
        resolve(2);
      }, Math.max(0, deadline - Date.now()));
    });
    exitCode = await Promise.race([finished, timedOut]);
    if (exitCode === 0) {
      cspCheck = await probeWebviewCsp(page);
      console.log(`  ${cspCheck.ok ? 'ok  ' : 'FAIL'} webview CSP > ${cspCheck.detail}`);
      if (!cspCheck.ok) exitCode = 1;
    }
  } catch (err) {
    console.error(`run-extension-tests: ${err instanceof Error ? err.stack : String(err)}`);
    exitCode = 2;
  } finally {
    clearTimeout(timer);
    if (page) {
      const shot = path.join(REPO, 'test-results', `e2e-${opts.name}.png`);
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      try {
        await page.screenshot({ path: shot, timeout: 15_000 });
        console.log(`run-extension-tests: screenshot ${path.relative(REPO, shot)}`);
      } catch (err) {
        console.error(`run-extension-tests: screenshot failed: ${err instanceof Error ? err.message : err}`);
      }
    }
    if (browser) await browser.close().catch(() => undefined);
    driver.close();
    await killProcessGroup(server);
    await killProcessGroup(xvfb);
    logStream.end();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  if (fs.existsSync(reportPath)) {
    const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
    for (const r of report.results) {
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.suite} > ${r.title} (${r.durationMs} ms)`);
      if (!r.ok) console.log(String(r.error).split('\n').map((l: string) => `        ${l}`).join('\n'));
    }
    console.log(report.summary);
  } else {
    console.error('run-extension-tests: the suite wrote no report (it did not finish, or failed to load)');
  }
  console.log(`run-extension-tests: exit ${exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (opts.keep || exitCode !== 0) console.log(`run-extension-tests: logs kept in ${tmp}`);
  // The closing line CI reads: counts in the plain "N passed, N failed" form.
  const results: { ok: boolean }[] = fs.existsSync(reportPath) ? JSON.parse(fs.readFileSync(reportPath, 'utf8')).results : [];
  if (!opts.keep && exitCode === 0) fs.rmSync(tmp, { recursive: true, force: true });
  const checks = [...results, ...(cspCheck ? [cspCheck] : [])];
  console.log(`e2e: ${checks.filter((r) => r.ok).length} passed, ${checks.filter((r) => !r.ok).length + (results.length === 0 ? 1 : 0)} failed`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`run-extension-tests: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);

interface ProbeFrame {
  evaluate<T>(fn: string | (() => T | Promise<T>)): Promise<T>;
}

const PROBE_SCRIPT = `(async () => {
  const nonce = document.querySelector('script[nonce]').nonce;
  for (const [flag, withNonce] of [['__p2sWithoutNonce', false], ['__p2sWithNonce', true]]) {
    const script = document.createElement('script');
    if (withNonce) script.nonce = nonce;
    script.textContent = 'window.' + flag + ' = true;';
    document.body.appendChild(script);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
  return { blocked: window.__p2sWithoutNonce !== true, allowed: window.__p2sWithNonce === true, csp: meta ? meta.getAttribute('content') : '' };
})()`;

/**
 * In the Pix2Struct panel's own frame (the one holding #app), appends two inline scripts: one
 * without the page's nonce, which the CSP must block, and one with it, which must run (proof
 * that the probe itself works). The panel is still open from the suite's last test.
 */
async function probeWebviewCsp(page: { frames(): ProbeFrame[] }): Promise<{ ok: boolean; detail: string }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const frame of page.frames()) {
      const isPanel = await frame.evaluate<boolean>("(document.getElementById('app') ?? document.getElementById('run-app')) !== null && document.querySelector('script[nonce]') !== null").catch(() => false);
      if (!isPanel) continue;
      // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
      const r = await frame.evaluate<{ blocked: boolean; allowed: boolean; csp: string }>(PROBE_SCRIPT);
      const ok = r.blocked && r.allowed && !/unsafe-inline|unsafe-eval/.test(r.csp);
      return { ok, detail: `inline script without the nonce ${r.blocked ? 'blocked' : 'RAN'}, with it ${r.allowed ? 'ran' : 'did not run'}; CSP "${r.csp}"` };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { ok: false, detail: 'the Pix2Struct panel frame was not found' };
}
