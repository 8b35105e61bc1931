import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { codeServerDirs, findCodeServer, installVsix } from '../helpers/code-server';
import { imagePath, MODEL_DIR, modelRef, tempDir } from '../helpers/fixture';
import { listZip } from '../helpers/zip-listing';

// `npm run package` for linux-x64 (the machine's platform), then the .vsix as a user gets it:
// its listing, and the extension VS Code's installer unpacks from it, running on Node 24 (the
// extension host's Node in code-server and in current desktop VS Code).
const REPO = path.resolve(__dirname, '../..');
const TARGET = 'linux-x64';
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const sharpVersion: string = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules/sharp/package.json'), 'utf8')).version;

describe(`npm run package (${TARGET})`, () => {
  const out = tempDir('vsix');
  const vsix = path.join(out, `pix2struct-vscode-${TARGET}-${manifest.version}.vsix`);
  let names: string[] = [];

  before(() => {
    const args = [path.join(REPO, 'scripts/package.mjs'), '--target', TARGET, '--out', out];
    // npm test builds first; a lone run of this file builds when dist/ is missing.
    if (fs.existsSync(path.join(REPO, 'dist/extension.js'))) args.push('--no-build');
    const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`${TARGET}\\s+[\\d.]+ MiB`), 'prints the size table');
    names = listZip(vsix).map((e) => e.name);
  });

  test('ships the bundles, the panel, the font with its licence, the README and LICENSE', () => {
    const expected = [
      'extension/package.json',
      'extension/LICENSE.txt',
      'extension/readme.md',
      `extension/${path.posix.normalize(manifest.main)}`,
      'extension/dist/inference-worker.js',
      'extension/dist/cli.js',
      'extension/dist/webview/panel.js',
      'extension/dist/webview/panel.css',
      ...fs.readdirSync(path.join(REPO, 'model-runtime/assets/fonts')).map((f) => `extension/dist/assets/fonts/${f}`),
    ];
    for (const name of expected) assert.ok(names.includes(name), `${name} is in the vsix`);
    assert.ok(fs.readdirSync(path.join(REPO, 'model-runtime/assets/fonts')).some((f) => /^LICEN[CS]E/i.test(f)));
  });

  test('ships training/remote (as dist/training-remote), which the launcher uploads to training hosts', () => {
    const remote = fs
      .readdirSync(path.join(REPO, 'training/remote'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !/(__pycache__|\.pyc$)/.test(path.join(e.parentPath, e.name)))
      .map((e) => `extension/dist/training-remote/${path.relative(path.join(REPO, 'training/remote'), path.join(e.parentPath, e.name)).split(path.sep).join('/')}`);
    assert.ok(remote.length > 0);
    for (const name of remote) assert.ok(names.includes(name), `${name} is in the vsix`);
  });

  test('carries the linux-x64 native binaries and no other platform', () => {
    const ort = 'extension/dist/node_modules/onnxruntime-node/bin/napi-v6/';
    assert.ok(names.includes(`${ort}linux/x64/onnxruntime_binding.node`));
    assert.ok(names.includes(`${ort}linux/x64/libonnxruntime.so.1`));
    assert.ok(names.includes(`extension/dist/node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-${sharpVersion}.node`));
    assert.ok(names.some((n) => n.startsWith('extension/dist/node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so')));
    const foreign = names.filter((n) => /\.(node|dll|dylib)$|\.so(\.\d+)*$/.test(n) && !/linux[-/]x64/.test(n));
    assert.deepEqual(foreign, [], 'native files of other platforms');
    assert.deepEqual(names.filter((n) => /\/(win32|darwin)[-/]/.test(n)), [], 'files for Windows or macOS');
  });

  test('leaves out sources, tests, caches, source maps and TypeScript', () => {
    const stray = names.filter((n) =>
      /^extension\/(src|test|webview|model-runtime|scripts|bench|samples|\.cache|node_modules|dist\/test)\//.test(n) ||
      /^extension\/training\//.test(n) ||
      /\.(map|ts)$/.test(n),
    );
    assert.deepEqual(stray, []);
  });

  test('installs into VS Code (code-server) and its native modules load and infer there', (t) => {
    const install = findCodeServer();
    if ('missing' in install) {
      t.skip(`code-server is not installed (bash scripts/setup-code-server.sh): ${install.missing.join(', ')}`);
      return;
    }
    const dirs = codeServerDirs(tempDir('vsix-install'));
    const extDir = installVsix(install, dirs, vsix);

    // require() from the installed extension bundle finds each external package inside the
    // installed folder, and the native ones load on Node 24.
    const probe = `
      const { createRequire } = require('node:module');
      const req = createRequire(process.argv[1]);
      const out = {};
      for (const name of ['onnxruntime-node', 'sharp', 'screenshot-desktop']) out[name] = req.resolve(name);
      out.ortBackends = typeof req('onnxruntime-node').InferenceSession.create;
      out.sharpVips = req('sharp').versions.vips;
      console.log(JSON.stringify(out));`;
    const r = spawnSync(install.node, ['-e', probe, path.join(extDir, manifest.main)], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout);
    for (const name of ['onnxruntime-node', 'sharp', 'screenshot-desktop']) {
      assert.ok(loaded[name].startsWith(path.join(extDir, 'dist/node_modules') + path.sep), `${name} resolves to ${loaded[name]}`);
    }
    assert.equal(loaded.ortBackends, 'function');
    assert.match(loaded.sharpVips, /^\d+\.\d+/);

    // The packaged CLI generates the transformers reference tokens with the packaged binaries.
    const ref = modelRef('chart');
    const gen = spawnSync(
      install.node,
      [path.join(extDir, 'dist/cli.js'), 'generate', '--model', MODEL_DIR, '--image', imagePath('chart', 'plain'),
        '--max-patches', '256', '--max-new-tokens', String(ref.greedy_ids.length - 1), '--cache-dir', tempDir('vsix-graphs'), '--precision', 'fp32', '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(gen.status, 0, gen.stderr);
    assert.deepEqual(JSON.parse(gen.stdout).token_ids, ref.greedy_ids);
  });
});
