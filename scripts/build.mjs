// Bundles the CLI, the extension, its inference worker and the webview panel with esbuild;
// native modules stay external.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });

/** Everything that runs in Node (CLI, extension host, worker) is a CommonJS bundle for Node 20. */
const nodeBundle = { outdir: dist, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
/** The webview panels: one script each, loaded under the panel's CSP. */
const browserBundle = { bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: true, logLevel: 'warning' };

await esbuild.build({
  ...nodeBundle,
  entryPoints: { cli: path.join(root, 'model-runtime/cli/main.ts') },
  external: ['onnxruntime-node', 'sharp'],
  banner: { js: '#!/usr/bin/env node' },
});
fs.chmodSync(path.join(dist, 'cli.js'), 0o755);

// The extension host and its inference worker (Node), and the panel (browser).
await esbuild.build({
  ...nodeBundle,
  entryPoints: { extension: path.join(root, 'src/extension.ts'), 'inference-worker': path.join(root, 'src/worker/inference-worker.ts') },
  // screenshot-desktop runs helper binaries from its own folder on Windows: keep it a package.
  external: ['vscode', 'onnxruntime-node', 'sharp', 'screenshot-desktop'],
});
await esbuild.build({ ...browserBundle, entryPoints: { panel: path.join(root, 'webview/main.ts') }, outdir: path.join(dist, 'webview') });
fs.copyFileSync(path.join(root, 'webview/panel.css'), path.join(dist, 'webview/panel.css'));
// The training run panel (browser) with uPlot and its stylesheet, loaded under the panel's CSP.
await esbuild.build({ ...browserBundle, entryPoints: { 'run-panel': path.join(root, 'webview/training/main.ts') }, outdir: path.join(dist, 'webview/training') });
fs.copyFileSync(path.join(root, 'webview/training/run-panel.css'), path.join(dist, 'webview/training/run-panel.css'));
fs.copyFileSync(path.join(root, 'node_modules/uplot/dist/uPlot.min.css'), path.join(dist, 'webview/training/uPlot.min.css'));
// Remote fine-tuning: the Python half the launcher uploads to each host, and the view's icon;
// the packaged extension ships dist/ only.
fs.cpSync(path.join(root, 'training/remote'), path.join(dist, 'training-remote'), {
  recursive: true,
  filter: (src) => !/(^|[\\/])(__pycache__|\.pytest_cache|\.mypy_cache)([\\/]|$)|\.py[co]$/.test(path.relative(root, src)),
});
fs.mkdirSync(path.join(dist, 'media'), { recursive: true });
fs.copyFileSync(path.join(root, 'media/training.svg'), path.join(dist, 'media/training.svg'));
// The header renderer loads its font from dist/assets/fonts when bundled.
fs.cpSync(path.join(root, 'model-runtime/assets'), path.join(dist, 'assets'), { recursive: true });
