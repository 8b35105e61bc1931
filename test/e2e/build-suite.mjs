// Bundles the extension-host test suite: test/e2e/suite/index.ts plus every test/e2e/suite/*.e2e.ts
// (imported in name order, so they register in that order) into dist/test/e2e/suite/index.js.
// Usage: node test/e2e/build-suite.mjs [--grep SUBSTRING]   (only the e2e files whose name matches)
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const suiteDir = path.join(root, 'test/e2e/suite');
const outfile = path.join(root, 'dist/test/e2e/suite/index.js');
const grepAt = process.argv.indexOf('--grep');
const grep = grepAt > 0 ? process.argv[grepAt + 1] : process.env.PIX2STRUCT_E2E_GREP;

const tests = fs
  .readdirSync(suiteDir)
  .filter((f) => f.endsWith('.e2e.ts') && (!grep || f.includes(grep)))
  .sort();
if (tests.length === 0) throw new Error(`no *.e2e.ts files in ${suiteDir}${grep ? ` matching ${grep}` : ''}`);

const entry = [
  `export { run } from './index';`,
  ...tests.map((f) => `import './${f.replace(/\.ts$/, '')}';`),
].join('\n');

await esbuild.build({
  stdin: { contents: entry, resolveDir: suiteDir, sourcefile: 'e2e-entry.ts', loader: 'ts' },
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  // Suites may call the runtime directly to compute expected values: natives stay packages.
  external: ['vscode', 'onnxruntime-node', 'sharp'],
  logLevel: 'warning',
});
// The runtime's header renderer looks for its font beside the bundle.
fs.cpSync(path.join(root, 'model-runtime/assets'), path.join(path.dirname(outfile), 'assets'), { recursive: true });
console.log(`build-suite: ${path.relative(root, outfile)} (${tests.join(', ')})`);
