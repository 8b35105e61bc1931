import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AbortError } from '../../model-runtime/src/errors';
import {
  cudaProviderTarget,
  findCudaProviderInstall,
  installCudaProvider,
  installDirFor,
  onnxruntimeVersion,
  ProviderInstallError,
  resolveCudaProviderPackage,
  type InstallProgress,
} from '../../model-runtime/src/runtime/cuda-provider-install';
import { trackedTempDirs } from '../helpers/fixture';
import { buildZip } from '../helpers/zip-writer';

const run = promisify(execFile);
const temps = trackedTempDirs();
after(() => temps.removeAll());

// ---------------------------------------------------------------------------------------------
// A .nupkg built here: the entry paths of Microsoft.ML.OnnxRuntime.Gpu.Linux, placeholder bytes.

const CUDA_BYTES = crypto.randomBytes(3 * 2 ** 20 + 12345); // incompressible: stored, and big enough to cut mid-body
const SHARED_BYTES = Buffer.from('placeholder for libonnxruntime_providers_shared.so\n'.repeat(4000)); // deflated


const NUPKG = buildZip([
  { name: '[Content_Types].xml', data: Buffer.from('<?xml version="1.0"?><Types/>'), deflate: true },
  { name: 'microsoft.ml.onnxruntime.gpu.linux.nuspec', data: Buffer.from('<package/>'), deflate: true },
  { name: 'runtimes/linux-x64/native/libonnxruntime_providers_shared.so', data: SHARED_BYTES, deflate: true },
  { name: 'runtimes/linux-x64/native/libonnxruntime_providers_tensorrt.so', data: Buffer.from('not wanted'), deflate: false },
  { name: 'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so', data: CUDA_BYTES, deflate: false },
]);
const NUPKG_SHA512 = crypto.createHash('sha512').update(NUPKG).digest('base64');

// ---------------------------------------------------------------------------------------------
// A local NuGet v3 feed: service index, registration leaf (gzip, as nuget.org's 3.6.0 hive
// serves it), catalog leaf, and the flat-container .nupkg with Range support.

interface Faults {
  /** destroy the socket after this many body bytes of the .nupkg, for the next `times` responses */
  cut?: { afterBytes: number; times: number };
  /** send this many body bytes of the .nupkg, then hold the response open */
  stall?: { afterBytes: number };
  /** serve the .nupkg with one byte changed (same length) */
  corrupt?: boolean;
  /** the version the feed knows (404 for any other) */
  version?: string;
}

interface Feed {
  url: string;
  faults: Faults;
  requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

const VERSION = onnxruntimeVersion();
const ID = 'microsoft.ml.onnxruntime.gpu.linux';

async function startFeed(): Promise<Feed> {
  const faults: Faults = {};
  const requests: Feed['requests'] = [];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ path: url.pathname, range: req.headers.range });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const version = faults.version ?? VERSION;
    const json = (status: number, body: unknown, gzip = false) => {
      const data = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { 'Content-Type': 'application/json', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
      res.end(gzip ? zlib.gzipSync(data) : data);
    };
    if (url.pathname === '/v3/index.json') {
      return json(200, {
        version: '3.0.0',
        resources: [
          { '@id': `${base}/v3-flatcontainer/`, '@type': 'PackageBaseAddress/3.0.0' },
          { '@id': `${base}/v3/registration5-gz-semver2/`, '@type': 'RegistrationsBaseUrl/3.6.0' },
          { '@id': `${base}/v3/registration5-semver1/`, '@type': 'RegistrationsBaseUrl' },
        ],
      });
    }
    if (url.pathname === `/v3/registration5-gz-semver2/${ID}/${version}.json`) {
      return json(200, { '@id': `${base}${url.pathname}`, catalogEntry: `${base}/v3/catalog0/data/${ID}.${version}.json`, listed: true, packageContent: `${base}/v3-flatcontainer/${ID}/${version}/${ID}.${version}.nupkg` }, true);
    }
    if (url.pathname === `/v3/catalog0/data/${ID}.${version}.json`) {
      return json(200, { '@type': ['PackageDetails', 'catalog:Permalink'], id: 'Microsoft.ML.OnnxRuntime.Gpu.Linux', version, packageHash: NUPKG_SHA512, packageHashAlgorithm: 'SHA512', packageSize: NUPKG.length });
    }
    if (url.pathname === `/v3-flatcontainer/${ID}/${version}/${ID}.${version}.nupkg`) {
      const body = faults.corrupt ? Buffer.from(NUPKG) : NUPKG;
      if (faults.corrupt) body[body.length >> 1] ^= 0xff;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
        return res.end();
      }
      const part = body.subarray(start);
      res.writeHead(range ? 206 : 200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(part.length),
        'Accept-Ranges': 'bytes',
        ...(range ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
      });
      if (faults.stall) {
        res.write(part.subarray(0, faults.stall.afterBytes));
        open.add(res);
        res.on('close', () => open.delete(res));
        return; // held open until the client goes away
      }
      if (faults.cut && faults.cut.times > 0) {
        faults.cut.times--;
        res.write(part.subarray(0, faults.cut.afterBytes), () => res.socket?.destroy());
        return;
      }
      return res.end(part);
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/index.json`,
    faults,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const nupkgRequests = (feed: Feed) => feed.requests.filter((r) => r.path.endsWith('.nupkg'));

function expectInstalled(root: string): void {
  const install = findCudaProviderInstall(root);
  assert.ok(install, 'an install is found');
  assert.equal(install.dir, installDirFor(root, cudaProviderTarget()));
  assert.ok(fs.readFileSync(path.join(install.dir, 'libonnxruntime_providers_cuda.so')).equals(CUDA_BYTES), 'CUDA library bytes');
  assert.ok(fs.readFileSync(path.join(install.dir, 'libonnxruntime_providers_shared.so')).equals(SHARED_BYTES), 'shared library bytes');
  assert.deepEqual(fs.readdirSync(install.dir).sort(), ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'manifest.json']);
  assert.equal(install.manifest.package.sha512, NUPKG_SHA512);
  assert.equal(install.manifest.onnxruntimeVersion, VERSION);
  assert.deepEqual(fs.readdirSync(path.join(root, 'downloads')), [], 'the package and its partial file are gone');
}

function partialSize(root: string): number {
  const file = path.join(root, 'downloads', `${ID}.${VERSION}.nupkg.partial`);
  return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

describe('installing the CUDA provider from a NuGet v3 feed', { skip: process.platform !== 'linux' || process.arch !== 'x64' ? 'onnxruntime-node has CUDA only on linux-x64' : false }, () => {
  let feed: Feed;
  before(async () => {
    feed = await startFeed();
  });
  after(() => feed.close());
  beforeEach(() => {
    for (const key of Object.keys(feed.faults)) delete (feed.faults as Record<string, unknown>)[key];
    feed.requests.length = 0;
  });

  test('resolves size and SHA512 through the service index, registration and catalog', async () => {
    const pkg = await resolveCudaProviderPackage({ serviceIndex: feed.url });
    assert.equal(pkg.size, NUPKG.length);
    assert.equal(pkg.sha512, NUPKG_SHA512);
    assert.match(pkg.url, new RegExp(`/v3-flatcontainer/${ID}/${VERSION}/${ID}\\.${VERSION}\\.nupkg$`));
  });

  test('full install: progress from resolve to done, only the two libraries, then no network', async () => {
    const root = temps.tempDir('cuda-full');
    const seen: InstallProgress[] = [];
    const install = await installCudaProvider({ root, serviceIndex: feed.url, onProgress: (p) => seen.push({ ...p }) });
    expectInstalled(root);
    assert.equal(install.dir, installDirFor(root, cudaProviderTarget()));
    const phases = [...new Set(seen.map((p) => p.phase))];
    assert.deepEqual(phases, ['resolve', 'download', 'verify', 'extract', 'done']);
    const downloads = seen.filter((p) => p.phase === 'download');
    assert.equal(downloads.at(-1)!.bytes, NUPKG.length);
    assert.ok(downloads.every((p, i) => p.total === NUPKG.length && (i === 0 || p.bytes >= downloads[i - 1]!.bytes)), 'download progress only grows');
    const before = feed.requests.length;
    await installCudaProvider({ root, serviceIndex: feed.url });
    assert.equal(feed.requests.length, before, 'a complete install is returned without asking the feed');
  });

  test('a connection dropped mid-body: the call fails with the partial file kept, the next call resumes with Range', async () => {
    const root = temps.tempDir('cuda-resume');
    feed.faults.cut = { afterBytes: 700_000, times: 3 };
    await assert.rejects(installCudaProvider({ root, serviceIndex: feed.url }), (err: unknown) => {
      assert.ok(err instanceof ProviderInstallError, String(err));
      assert.equal(err.reason, 'interrupted');
      assert.match(err.message, /interrupted 3 times.*bytes are kept in .*resumes/);
      return true;
    });
    const kept = partialSize(root);
    // Each attempt continued the partial file (a chunk in flight when the socket dies may be lost).
    assert.ok(kept > 2 * 700_000 && kept <= 3 * 700_000, `kept ${kept} bytes after three cuts at 700000`);
    assert.equal(findCudaProviderInstall(root), null, 'nothing installed yet');
    feed.requests.length = 0;
    await installCudaProvider({ root, serviceIndex: feed.url });
    assert.deepEqual(nupkgRequests(feed).map((r) => r.range), [`bytes=${kept}-`], 'one request, for the rest');
    expectInstalled(root);
  });

  test('cancel through the AbortSignal: an AbortError, a resumable partial file, and a later call finishes', async () => {
    const root = temps.tempDir('cuda-cancel');
    feed.faults.stall = { afterBytes: 1_000_000 };
    const controller = new AbortController();
    const pending = installCudaProvider({
      root,
      serviceIndex: feed.url,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'download' && p.bytes >= 1_000_000) controller.abort();
      },
    });
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof AbortError, `AbortError, got ${String(err)}`);
      assert.match(err.message, /cancelled; 1000000 of \d+ bytes are kept .* resumes from there/);
      return true;
    });
    assert.equal(partialSize(root), 1_000_000);
    delete feed.faults.stall;
    feed.requests.length = 0;
    await installCudaProvider({ root, serviceIndex: feed.url });
    assert.deepEqual(nupkgRequests(feed).map((r) => r.range), ['bytes=1000000-']);
    expectInstalled(root);
  });

  test('a package that does not match NuGet\'s SHA512 is refused and nothing is installed', async () => {
    const root = temps.tempDir('cuda-hash');
    feed.faults.corrupt = true;
    await assert.rejects(installCudaProvider({ root, serviceIndex: feed.url }), (err: unknown) => {
      assert.ok(err instanceof ProviderInstallError, String(err));
      assert.equal(err.reason, 'integrity');
      assert.match(err.message, /does not match the SHA512 NuGet records.*deleted and nothing was installed/);
      return true;
    });
    assert.equal(findCudaProviderInstall(root), null);
    assert.equal(fs.existsSync(installDirFor(root, cudaProviderTarget())), false, 'no install folder');
    assert.equal(partialSize(root), 0, 'the bad download is deleted, so the next try starts afresh');
    delete feed.faults.corrupt;
    await installCudaProvider({ root, serviceIndex: feed.url });
    expectInstalled(root);
  });

  test('a feed without this onnxruntime version: not-found, naming package and version', async () => {
    const root = temps.tempDir('cuda-404');
    feed.faults.version = '0.0.1';
    await assert.rejects(installCudaProvider({ root, serviceIndex: feed.url }), (err: unknown) => {
      assert.ok(err instanceof ProviderInstallError, String(err));
      assert.equal(err.reason, 'not-found');
      assert.match(err.message, new RegExp(`NuGet has no Microsoft\\.ML\\.OnnxRuntime\\.Gpu\\.Linux ${VERSION.replace(/\./g, '\\.')}`));
      return true;
    });
  });

  test('offline (nothing listening): unreachable, naming the host', async () => {
    const closed = await startFeed();
    const url = closed.url;
    await closed.close();
    const root = temps.tempDir('cuda-offline');
    await assert.rejects(installCudaProvider({ root, serviceIndex: url }), (err: unknown) => {
      assert.ok(err instanceof ProviderInstallError, String(err));
      assert.equal(err.reason, 'unreachable');
      assert.match(err.message, /cannot reach 127\.0\.0\.1:\d+ for the NuGet service index \(ECONNREFUSED\).*nothing was installed/);
      return true;
    });
    assert.equal(findCudaProviderInstall(root), null);
  });

  test('a full disk: disk-full, saying the download resumes', { skip: !fs.existsSync('/dev/full') ? 'no /dev/full' : false }, async () => {
    const root = temps.tempDir('cuda-full-disk');
    const pkg = await resolveCudaProviderPackage({ serviceIndex: feed.url });
    // the partial file is /dev/full, where every write fails with ENOSPC
    fs.mkdirSync(path.join(root, 'downloads'));
    const partial = path.join(root, 'downloads', `${ID}.${VERSION}.nupkg.partial`);
    fs.symlinkSync('/dev/full', partial);
    fs.writeFileSync(`${partial}.json`, JSON.stringify({ url: pkg.url, size: pkg.size, sha512: pkg.sha512 }));
    await assert.rejects(installCudaProvider({ root, serviceIndex: feed.url, resolved: pkg }), (err: unknown) => {
      assert.ok(err instanceof ProviderInstallError, String(err));
      assert.equal(err.reason, 'disk-full');
      assert.match(err.message, /not enough disk space in .*downloads.*resumes where it stopped/);
      return true;
    });
  });

  // onnxruntime loads providers from the folder of libonnxruntime.so.1, so this runs in a child
  // process on a private copy of onnxruntime-node (hard links) to leave node_modules alone.
  test('auto with the installed (placeholder) libraries: CUDA is linked in, tried, skipped with a reason, CPU runs', async (t) => {
    const root = temps.tempDir('cuda-auto');
    await installCudaProvider({ root, serviceIndex: feed.url });
    const sandbox = temps.tempDir('ort-copy');
    const realPkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const copy = path.join(sandbox, 'node_modules', 'onnxruntime-node');
    const binRel = path.join('bin', 'napi-v6', process.platform, process.arch);
    fs.mkdirSync(path.join(copy, binRel), { recursive: true });
    fs.cpSync(path.join(realPkg, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(realPkg, 'package.json'), path.join(copy, 'package.json'));
    for (const f of fs.readdirSync(path.join(realPkg, binRel))) fs.linkSync(path.join(realPkg, binRel, f), path.join(copy, binRel, f));
    fs.symlinkSync(path.join(path.dirname(realPkg), 'onnxruntime-common'), path.join(sandbox, 'node_modules', 'onnxruntime-common'));
    const hook = path.join(sandbox, 'use-ort-copy.cjs');
    fs.writeFileSync(
      hook,
      [
        "const Module = require('node:module');",
        "const path = require('node:path');",
        'const original = Module._resolveFilename;',
        `const root = ${JSON.stringify(path.join(sandbox, 'node_modules'))};`,
        'Module._resolveFilename = function (request, ...rest) {',
        "  if (request === 'onnxruntime-node' || request.startsWith('onnxruntime-node/')) request = path.join(root, request);",
        '  return original.call(this, request, ...rest);',
        '};',
      ].join('\n'),
    );
    const script = path.join(sandbox, 'open.ts');
    fs.writeFileSync(
      script,
      `
import * as fs from 'node:fs';
import { GraphBuilder } from ${JSON.stringify(path.resolve(__dirname, '../../model-runtime/src/onnx/graph-builder'))};
import { floatTensor, ModelSession } from ${JSON.stringify(path.resolve(__dirname, '../../model-runtime/src/runtime/ort-session'))};
(async () => {
  const g = new GraphBuilder('add');
  const x = g.input('x', 'float', [2]);
  g.output(g.op('Add', [x, g.constFloat([1, 2])]), 'y', 'float', [2]);
  const file = process.argv[2] + '/add.onnx';
  fs.writeFileSync(file, g.serialize(17, 'add'));
  const { session, provider } = await ModelSession.openWithFallback(file, 'add', { executionProvider: 'auto', providerLibraryDir: process.argv[3] });
  const out = await session.run({ x: floatTensor(new Float32Array([10, 20]), [2]) });
  console.log(JSON.stringify({ provider, y: Array.from(out.y.data) }));
  await session.release();
})();
`,
    );
    const { stdout } = await run(process.execPath, ['--require', hook, '--import', 'tsx', script, sandbox, root], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, VK_DRIVER_FILES: path.join(sandbox, 'no-vulkan-drivers') },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { provider: { used: string; skipped: { name: string; reason: string }[] }; y: number[] };
    t.diagnostic(JSON.stringify(result.provider));
    assert.equal(result.provider.used, 'cpu');
    assert.deepEqual(result.y, [11, 22]);
    const cuda = result.provider.skipped.find((s) => s.name === 'cuda');
    assert.ok(cuda, `CUDA is reported: ${JSON.stringify(result.provider)}`);
    assert.match(cuda.reason, /CUDA provider library .*libonnxruntime_providers_cuda\.so is damaged or not a Linux x64 library .*Enable CUDA/);
    // the libraries were put beside the (copied) libonnxruntime.so.1, pointing at the install
    const install = findCudaProviderInstall(root)!;
    for (const f of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) {
      const linked = path.join(copy, binRel, f);
      assert.equal(fs.realpathSync(linked), fs.realpathSync(path.join(install.dir, f)), `${f} links to the install`);
      assert.equal(fs.existsSync(path.join(realPkg, binRel, f)), false, `node_modules' own binding folder has no ${f}`);
    }
  });
});

test('other platforms get a clear unsupported-platform error', () => {
  for (const [platform, arch, hint] of [
    ['win32', 'x64', /DirectML/],
    ['darwin', 'arm64', /CoreML or WebGPU/],
    ['linux', 'arm64', /CPU or WebGPU/],
  ] as const) {
    assert.throws(
      () => cudaProviderTarget({ platform, arch, onnxruntimeVersion: '1.30.0' }),
      (err: unknown) => err instanceof ProviderInstallError && err.reason === 'unsupported-platform' && hint.test(err.message) && err.message.includes(`${platform}-${arch}`),
    );
  }
});
