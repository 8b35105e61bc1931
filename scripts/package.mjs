// Packages the extension as one .vsix per VS Code platform target, each carrying only its own
// native binaries (onnxruntime-node's napi binary and sharp's @img/sharp-<platform>-<arch>).
//
//   node scripts/package.mjs [--target linux-x64,win32-x64] [--no-build] [--out dist-vsix]
//
// Each target is staged in .cache/vsix/stage-<target>/ with the layout the installed extension
// has: package.json, README.md, LICENSE, dist/ (bundles, webview, assets, training-remote/: the Python the launcher uploads) and
// dist/node_modules/ with the runtime packages the bundles require (onnxruntime-node, sharp and
// screenshot-desktop are external to esbuild). They sit under dist/ because vsce with
// dependencies disabled never packs a top-level node_modules, and Node resolves
// require('sharp') from dist/extension.js through dist/node_modules first. sharp's packages for
// other platforms come from the npm registry (npm pack, integrity checked against the registry's
// metadata) into .cache/vsix/npm/, so node_modules is never reinstalled.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const require = createRequire(import.meta.url);

/** Targets whose native binaries exist: onnxruntime-node 1.30 ships no darwin-x64 build. */
const SUPPORTED = ['linux-x64', 'linux-arm64', 'win32-x64', 'win32-arm64', 'darwin-arm64'];
/** Dependencies only onnxruntime-node's install script uses (it downloads CUDA libraries). */
const INSTALL_TIME_ONLY = new Set(['adm-zip', 'global-agent']);
/** Packages the bundles leave to require() at runtime (see scripts/build.mjs). */
const RUNTIME_ROOTS = ['onnxruntime-node', 'sharp', 'screenshot-desktop'];

function parseArgs(argv) {
  const opts = { targets: SUPPORTED, build: true, out: path.join(root, 'dist-vsix') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (argv[i + 1] === undefined) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--target') opts.targets = value().split(',').filter(Boolean);
    else if (a === '--no-build') opts.build = false;
    else if (a === '--out') opts.out = path.resolve(value());
    else fail(`unknown argument ${a} (usage: node scripts/package.mjs [--target t1,t2] [--no-build] [--out DIR])`);
  }
  for (const t of opts.targets) {
    if (!SUPPORTED.includes(t)) fail(`target ${t} is not supported; choose from ${SUPPORTED.join(', ')}`);
  }
  return opts;
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The installed package folder `name` as Node would find it from `fromDir`, or null. */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === path.dirname(dir)) return null;
  }
}

/**
 * The runtime dependency closure of the external packages, platform-independent part:
 * name → installed folder. Optional dependencies are left out (sharp's per-platform binaries
 * are added per target).
 */
function runtimeClosure() {
  const found = new Map();
  const visit = (name, fromDir) => {
    const dir = findPackage(name, fromDir);
    if (!dir) throw new Error(`${name} (needed at runtime) is not installed: run npm ci`);
    const known = found.get(name);
    if (known) {
      if (readJson(path.join(known, 'package.json')).version !== readJson(path.join(dir, 'package.json')).version) {
        throw new Error(`two versions of ${name} are needed (${known}, ${dir}); the flat layout cannot hold both`);
      }
      return;
    }
    found.set(name, dir);
    for (const dep of Object.keys(readJson(path.join(dir, 'package.json')).dependencies ?? {})) {
      if (!INSTALL_TIME_ONLY.has(dep)) visit(dep, dir);
    }
  };
  for (const name of RUNTIME_ROOTS) visit(name, root);
  return found;
}

/** sharp's per-platform packages for `target`, from sharp's own exact optional-dependency pins. */
function sharpPlatformPackages(target) {
  const sharpPkg = readJson(path.join(findPackage('sharp', root), 'package.json'));
  const pins = sharpPkg.optionalDependencies ?? {};
  const names = [`@img/sharp-${target}`, `@img/sharp-libvips-${target}`].filter((n) => pins[n]);
  if (!names.includes(`@img/sharp-${target}`)) throw new Error(`sharp ${sharpPkg.version} has no prebuilt binary for ${target}`);
  return names.map((name) => ({ name, version: pins[name] }));
}

/**
 * A folder holding package `name@version`: the installed one when it matches, else the registry
 * tarball unpacked in .cache/vsix/npm (downloaded once, sha512 checked against the registry).
 */
function fetchPackage(name, version) {
  const installed = findPackage(name, root);
  if (installed && readJson(path.join(installed, 'package.json')).version === version) return installed;
  const cache = path.join(root, '.cache/vsix/npm');
  const unpacked = path.join(cache, `${name.replace('/', '+')}@${version}`);
  if (fs.existsSync(path.join(unpacked, 'package', 'package.json'))) return path.join(unpacked, 'package');
  fs.mkdirSync(cache, { recursive: true });
  const meta = JSON.parse(run('npm', ['view', `${name}@${version}`, 'dist', '--json']));
  if (!meta?.integrity?.startsWith('sha512-')) throw new Error(`the registry gave no sha512 integrity for ${name}@${version}`);
  const packed = JSON.parse(run('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', cache]));
  const tgz = path.join(cache, packed[0].filename);
  const digest = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
  if (digest !== meta.integrity) {
    fs.rmSync(tgz, { force: true });
    throw new Error(`${name}@${version}: downloaded tarball has ${digest}, the registry says ${meta.integrity}`);
  }
  const tmp = `${unpacked}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', tmp]);
  fs.rmSync(tgz, { force: true });
  fs.rmSync(unpacked, { recursive: true, force: true });
  fs.renameSync(tmp, unpacked);
  console.log(`package: fetched ${name}@${version} (${digest.slice(0, 24)}…, matches the registry)`);
  return path.join(unpacked, 'package');
}

/** Files a runtime package never needs in the extension: docs, typings, sources, build inputs. */
function keepPackageFile(rel) {
  const base = path.basename(rel);
  if (/\.(map|d\.ts|d\.cts|d\.mts|ts|md|markdown|gyp|cc|h)$/i.test(base) && !/^licen[cs]e/i.test(base)) return false;
  const top = rel.split(path.sep)[0];
  return !['test', 'tests', 'examples', 'docs', '.github'].includes(top);
}

/** Per-package pruning on top of keepPackageFile, for the given target. */
function packageFilter(name, target) {
  const [platform, arch] = target.split('-');
  if (name === 'onnxruntime-node') {
    return (rel) => {
      const parts = rel.split(path.sep);
      if (parts[0] === 'script' || parts[0] === 'lib') return false; // install script, TS sources
      if (parts[0] !== 'bin') return true;
      if (parts.length < 4) return true;
      if (parts[2] !== platform || parts[3] !== arch) return false;
      // The binding links @rpath/libonnxruntime.1.dylib; the versioned copy is identical.
      return !/^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(parts[parts.length - 1]);
    };
  }
  if (name === 'sharp') return (rel) => !['src', 'install'].includes(rel.split(path.sep)[0]);
  // index.js picks lib/<process.platform>; win32's holds the capture helper it runs.
  if (name === 'screenshot-desktop') {
    return (rel) => {
      const parts = rel.split(path.sep);
      return parts[0] !== 'lib' || parts.length < 3 || parts[1] === platform;
    };
  }
  return () => true;
}

function copyTree(from, to, keep) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const abs = path.join(entry.parentPath, entry.name);
    const rel = path.relative(from, abs);
    if (!keep(rel)) continue;
    fs.mkdirSync(path.join(to, path.dirname(rel)), { recursive: true });
    fs.copyFileSync(abs, path.join(to, rel));
  }
}

function stage(target, closure) {
  const dir = path.join(root, '.cache/vsix', `stage-${target}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE']) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing at the repository root`);
    fs.copyFileSync(path.join(root, f), path.join(dir, f));
  }
  // dist/test holds the e2e suite bundle (test/e2e/build-suite.mjs), not part of the extension.
  copyTree(path.join(root, 'dist'), path.join(dir, 'dist'), (rel) => !rel.endsWith('.map') && rel.split(path.sep)[0] !== 'test');
  const modules = path.join(dir, 'dist/node_modules');
  const packages = [...closure.entries()].map(([name, from]) => ({ name, from }));
  for (const { name, version } of sharpPlatformPackages(target)) packages.push({ name, from: fetchPackage(name, version) });
  for (const { name, from } of packages) {
    const filter = packageFilter(name, target);
    copyTree(from, path.join(modules, name), (rel) => keepPackageFile(rel) && filter(rel));
  }
  return dir;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.build) run(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (!fs.existsSync(path.join(root, 'dist/extension.js'))) fail('dist/extension.js is missing: run npm run build');
  const { createVSIX } = require('@vscode/vsce');
  const version = readJson(path.join(root, 'package.json')).version;
  const closure = runtimeClosure();
  fs.mkdirSync(opts.out, { recursive: true });
  const rows = [];
  for (const target of opts.targets) {
    const started = Date.now();
    const dir = stage(target, closure);
    const packagePath = path.join(opts.out, `pix2struct-vscode-${target}-${version}.vsix`);
    await createVSIX({
      cwd: dir,
      packagePath,
      target,
      dependencies: false,
      ignoreFile: path.join(root, '.vscodeignore'),
      allowMissingRepository: true,
    });
    rows.push({ target, file: path.relative(root, packagePath), bytes: fs.statSync(packagePath).size, seconds: (Date.now() - started) / 1000 });
  }
  console.log('\ntarget        size      time  file');
  for (const r of rows) {
    console.log(`${r.target.padEnd(13)} ${(r.bytes / 2 ** 20).toFixed(1).padStart(6)} MiB ${r.seconds.toFixed(1).padStart(5)} s  ${r.file}`);
  }
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
