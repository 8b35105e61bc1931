import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Pix2StructModel } from '../../model-runtime/src/model';
import { cudaProviderTarget, installDirFor } from '../../model-runtime/src/runtime/cuda-provider-install';
import { explainProviderFailure, precheckProvider, prepareProvider, providerCandidates } from '../../model-runtime/src/runtime/execution-providers';
import { hardwareVulkanDrivers, surveyVulkan, webgpuSkipReason } from '../../model-runtime/src/runtime/gpu-detection';
import { MODEL_DIR, modelRef, referenceInputs, trackedTempDirs } from '../helpers/fixture';

const temps = trackedTempDirs();
after(() => temps.removeAll());

describe('execution providers fall back to CPU and say why', () => {
  const cacheDir = temps.tempDir('ep-graphs');

  test('auto tries the platform accelerators first, WebGPU after them, and always ends on CPU', () => {
    assert.deepEqual(providerCandidates('auto', 'linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(providerCandidates('auto', 'win32'), ['cuda', 'dml', 'webgpu', 'cpu']);
    assert.deepEqual(providerCandidates('auto', 'darwin'), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(providerCandidates('cpu'), ['cpu']);
    assert.deepEqual(providerCandidates('webgpu'), ['webgpu', 'cpu']);
  });

  // This machine has no GPU and onnxruntime-node was installed without its CUDA libraries, and
  // the Vulkan drivers are hidden (VK_DRIVER_FILES names an empty folder): every request must
  // still run, on CPU, with the reason recorded. (WebGPU on a Vulkan driver: webgpu-provider.test.ts.)
  for (const requested of ['auto', 'cuda', 'dml', 'coreml', 'webgpu'] as const) {
    test(`${requested}: runs, reports the provider used and why others were skipped`, async () => {
      const saved = process.env.VK_DRIVER_FILES;
      process.env.VK_DRIVER_FILES = temps.tempDir('no-vulkan');
      const model = await Pix2StructModel.load(MODEL_DIR, { precision: 'fp32', cacheDir, executionProvider: requested }).finally(() => {
        if (saved === undefined) delete process.env.VK_DRIVER_FILES;
        else process.env.VK_DRIVER_FILES = saved;
      });
      try {
        assert.equal(model.provider.used, 'cpu');
        const skippedNames = model.provider.skipped.map((s) => s.name);
        if (requested !== 'auto') assert.deepEqual(skippedNames, [requested]);
        else assert.ok(skippedNames.every((n) => n !== 'cpu'));
        for (const s of model.provider.skipped) assert.ok(s.reason.length > 10, `${s.name}: "${s.reason}"`);
        const reason = (name: string) => model.provider.skipped.find((s) => s.name === name)?.reason ?? '';
        if (requested === 'cuda') assert.match(reason('cuda'), /libonnxruntime_providers_cuda\.so is not installed; run "Pix2Struct: Enable CUDA"/);
        if (process.platform === 'linux' && (requested === 'webgpu' || requested === 'auto')) assert.match(reason('webgpu'), /no Vulkan driver is installed \(no ICD manifest in /);
        const ref = modelRef('chart');
        const result = await model.generate(await model.encode(referenceInputs('chart')), { maxNewTokens: 5 });
        assert.deepEqual(result.tokenIds, ref.greedy_ids.slice(0, 6));
      } finally {
        await model.release();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// WebGPU: is there a hardware adapter? Each case lays out the files the Vulkan loader reads
// (manifests, the loader library, device nodes and their sysfs entries) in a folder of its own.

interface MachineSpec {
  loader?: boolean;
  /** folder (absolute, inside the machine) -> manifest file name -> ICD library_path */
  icds?: Record<string, Record<string, string>>;
  /** render nodes: vendor id and kernel driver */
  render?: { vendor: number; driver: string }[];
  nvidiaNodes?: boolean;
}

function machine(spec: MachineSpec): string {
  const root = temps.tempDir('machine');
  const put = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  };
  if (spec.loader !== false) put('/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '');
  for (const [dir, files] of Object.entries(spec.icds ?? {})) {
    for (const [name, library] of Object.entries(files)) put(path.join(dir, name), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } }));
  }
  (spec.render ?? []).forEach((r, i) => {
    put(`/dev/dri/renderD${128 + i}`, '');
    put(`/sys/class/drm/renderD${128 + i}/device/vendor`, `0x${r.vendor.toString(16).padStart(4, '0')}\n`);
    fs.symlinkSync(`../../../../bus/pci/drivers/${r.driver}`, path.join(root, `/sys/class/drm/renderD${128 + i}/device/driver`));
  });
  if (spec.nvidiaNodes) {
    put('/dev/nvidia0', '');
    put('/dev/nvidiactl', '');
  }
  return root;
}

const MESA = {
  '/usr/share/vulkan/icd.d': {
    'intel_icd.x86_64.json': '/usr/lib/x86_64-linux-gnu/libvulkan_intel.so',
    'intel_hasvk_icd.x86_64.json': '/usr/lib/x86_64-linux-gnu/libvulkan_intel_hasvk.so',
    'radeon_icd.x86_64.json': '/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so',
    'lvp_icd.x86_64.json': '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so',
    'virtio_icd.x86_64.json': '/usr/lib/x86_64-linux-gnu/libvulkan_virtio.so',
  },
};
const NVIDIA_ICD = { '/etc/vulkan/icd.d': { 'nvidia_icd.json': 'libGLX_nvidia.so.0' } };
const INTEL_GPU = { vendor: 0x8086, driver: 'i915' };

function verdict(root: string, env: NodeJS.ProcessEnv = {}, explicit = false): string | null {
  return webgpuSkipReason('linux', surveyVulkan({ root, env, home: '/home/user' }), explicit);
}

describe('auto uses WebGPU only on a hardware adapter', () => {
  test("Debian's Mesa on a machine without a GPU: lavapipe only, refused under auto, allowed when asked for", () => {
    const root = machine({ icds: MESA });
    const reason = verdict(root);
    assert.match(reason ?? '', /^only a software Vulkan adapter \(lavapipe\) is usable, no GPU was found for the installed Intel \(ANV\), AMD \(RADV\/AMDVLK\), Venus \(virtio-gpu\) Vulkan drivers \(none of \/dev\/dri\/renderD\*, \/dev\/nvidia\* exists\): it is slower than the CPU provider; ask for webgpu explicitly/);
    assert.equal(verdict(root, {}, true), null, 'an explicit request runs on lavapipe (how CI checks WebGPU)');
  });

  test('only a software driver installed (lavapipe, SwiftShader)', () => {
    assert.match(verdict(machine({ icds: { '/usr/share/vulkan/icd.d': { 'lvp_icd.json': 'libvulkan_lvp.so' } } })) ?? '', /^only a software Vulkan driver \(lavapipe\) is installed: it is slower than the CPU provider/);
    assert.match(verdict(machine({ icds: { '/usr/local/share/vulkan/icd.d': { 'vk_swiftshader_icd.json': './libvk_swiftshader.so' } } })) ?? '', /software Vulkan driver \(SwiftShader\)/);
  });

  test('an Intel GPU with Mesa: hardware, WebGPU is tried', () => {
    const root = machine({ icds: MESA, render: [INTEL_GPU] });
    assert.equal(verdict(root), null);
    assert.deepEqual([...new Set(hardwareVulkanDrivers(surveyVulkan({ root, env: {}, home: '/home/user' })).map((d) => d.name))], ['Intel (ANV)']);
  });

  test('an NVIDIA container (driver manifest in /etc/vulkan/icd.d, /dev/nvidia0): hardware', () => {
    assert.equal(verdict(machine({ icds: NVIDIA_ICD, nvidiaNodes: true })), null);
  });

  test('an NVIDIA manifest without an NVIDIA device, or an AMD driver with only an Intel GPU: refused', () => {
    assert.match(verdict(machine({ icds: { ...NVIDIA_ICD, '/usr/share/vulkan/icd.d': MESA['/usr/share/vulkan/icd.d'] } })) ?? '', /no GPU was found for the installed NVIDIA, Intel/);
    const amdOnly = machine({ icds: { '/usr/share/vulkan/icd.d': { 'radeon_icd.json': 'libvulkan_radeon.so' } }, render: [INTEL_GPU] });
    assert.equal(verdict(amdOnly), 'no GPU was found for the installed AMD (RADV/AMDVLK) Vulkan drivers (found only /dev/dri/renderD128)');
  });

  test('VK_DRIVER_FILES replaces the search path, VK_LOADER_DRIVERS_DISABLE filters it, as in the loader', () => {
    const root = machine({ icds: MESA, render: [INTEL_GPU] });
    const lvp = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
    assert.match(verdict(root, { VK_DRIVER_FILES: lvp }) ?? '', /^only a software Vulkan driver \(lavapipe\)/);
    assert.match(verdict(root, { VK_ICD_FILENAMES: lvp }) ?? '', /^only a software Vulkan driver \(lavapipe\)/);
    assert.match(verdict(root, { VK_LOADER_DRIVERS_DISABLE: 'intel*' }) ?? '', /lavapipe.*no GPU was found for the installed AMD/);
    assert.equal(verdict(root, { VK_DRIVER_FILES: '/usr/share/vulkan/icd.d' }), null, 'a folder in VK_DRIVER_FILES is searched');
  });

  test('XDG_DATA_DIRS and the home folders are searched', () => {
    const root = machine({ icds: { '/opt/gpu/vulkan/icd.d': { 'nvidia_icd.json': 'libGLX_nvidia.so.0' } }, nvidiaNodes: true });
    assert.match(verdict(root) ?? '', /no Vulkan driver is installed/);
    assert.equal(verdict(root, { XDG_DATA_DIRS: '/opt/gpu:/usr/share' }), null);
    const home = machine({ icds: { '/home/user/.local/share/vulkan/icd.d': { 'intel_icd.json': 'libvulkan_intel.so' } }, render: [INTEL_GPU] });
    assert.equal(verdict(home), null);
  });

  test('no loader or no driver: a reason even when webgpu is asked for by name', () => {
    for (const explicit of [false, true]) {
      assert.match(verdict(machine({ loader: false, icds: MESA }), {}, explicit) ?? '', /^no Vulkan loader \(libvulkan\.so\.1\) is installed.*apt-get install libvulkan1/);
      assert.match(verdict(machine({}), {}, explicit) ?? '', /^no Vulkan driver is installed \(no ICD manifest in \/home\/user\/\.config\/vulkan\/icd\.d, \/etc\/xdg\/vulkan\/icd\.d, .*\/usr\/share\/vulkan\/icd\.d\)$/);
    }
  });

  test('Windows (D3D12) and macOS (Metal) adapters count as hardware', () => {
    assert.equal(webgpuSkipReason('win32', null, false), null);
    assert.equal(webgpuSkipReason('darwin', null, false), null);
  });

  test('precheckProvider: a build without WebGPU says so', () => {
    assert.match(precheckProvider('webgpu', [{ name: 'cpu', bundled: true }], null) ?? '', /has no webgpu provider/);
  });
});

// ---------------------------------------------------------------------------------------------
// CUDA installed by "Enable CUDA": found, linked beside libonnxruntime, failures explained.

/** The files installCudaProvider leaves behind, with the given bytes. */
function fakeInstall(root: string, version = cudaProviderTarget().onnxruntimeVersion, cudaBytes: Buffer = Buffer.from('placeholder')): string {
  const target = cudaProviderTarget({ onnxruntimeVersion: version });
  const dir = installDirFor(root, target);
  fs.mkdirSync(dir, { recursive: true });
  const files = [
    { name: 'libonnxruntime_providers_shared.so', data: Buffer.from('shared') },
    { name: 'libonnxruntime_providers_cuda.so', data: cudaBytes },
  ];
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), f.data);
  const manifest = {
    onnxruntimeVersion: version,
    platform: target.platform,
    arch: target.arch,
    package: { id: target.packageId, version, url: 'http://127.0.0.1/x.nupkg', sha512: 'x' },
    files: files.map((f) => ({ name: f.name, size: f.data.length, crc32: 0 })),
    installedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/** A minimal x86-64 ELF shared object whose dynamic section lists `needed`. */
function elfNeeding(needed: string[]): Buffer {
  const strings = Buffer.concat([Buffer.from([0]), ...needed.map((n) => Buffer.from(`${n}\0`))]);
  const strOff = 64 + 2 * 56;
  const dynOff = Math.ceil((strOff + strings.length) / 8) * 8;
  const entries: [number, number][] = [];
  let p = 1;
  for (const n of needed) {
    entries.push([1, p]); // DT_NEEDED
    p += n.length + 1;
  }
  entries.push([5, strOff], [10, strings.length], [0, 0]); // DT_STRTAB, DT_STRSZ, DT_NULL
  const size = dynOff + entries.length * 16;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; // 64-bit
  b[5] = 1; // little-endian
  b[6] = 1;
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(62, 18); // x86-64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(64n, 0x20); // e_phoff
  b.writeUInt16LE(64, 0x34);
  b.writeUInt16LE(56, 0x36);
  b.writeUInt16LE(2, 0x38);
  const ph = (i: number, type: number, offset: number, filesz: number) => {
    const o = 64 + i * 56;
    b.writeUInt32LE(type, o);
    b.writeBigUInt64LE(BigInt(offset), o + 8);
    b.writeBigUInt64LE(BigInt(offset), o + 16);
    b.writeBigUInt64LE(BigInt(offset), o + 24);
    b.writeBigUInt64LE(BigInt(filesz), o + 32);
    b.writeBigUInt64LE(BigInt(filesz), o + 40);
  };
  ph(0, 1, 0, size); // PT_LOAD of the whole file at address 0
  ph(1, 2, dynOff, entries.length * 16); // PT_DYNAMIC
  strings.copy(b, strOff);
  entries.forEach(([tag, val], i) => {
    b.writeBigInt64LE(BigInt(tag), dynOff + i * 16);
    b.writeBigUInt64LE(BigInt(val), dynOff + i * 16 + 8);
  });
  return b;
}

const CUDA_BUILD = [
  { name: 'cpu', bundled: true },
  { name: 'cuda', bundled: false },
];

describe('the CUDA provider installed by "Enable CUDA"', { skip: process.platform !== 'linux' || process.arch !== 'x64' ? 'CUDA installs are linux-x64 only' : false }, () => {
  test('not installed: the reason points at the command; an install for another onnxruntime is named', () => {
    const binding = temps.tempDir('binding');
    const root = temps.tempDir('storage');
    const reason = precheckProvider('cuda', CUDA_BUILD, binding, { providerLibraryDir: root });
    assert.equal(reason, 'CUDA provider library libonnxruntime_providers_cuda.so is not installed; run "Pix2Struct: Enable CUDA" from the Command Palette to install it (CUDA 12 and cuDNN 9 must be installed on the system)');
    fakeInstall(root, '1.29.0');
    assert.match(precheckProvider('cuda', CUDA_BUILD, binding, { providerLibraryDir: root }) ?? '', /is not installed for this onnxruntime-node \(installed: 1\.29\.0-linux-x64\); run "Pix2Struct: Enable CUDA"/);
    assert.match(precheckProvider('cuda', [{ name: 'cpu', bundled: true }], binding, { providerLibraryDir: root }) ?? '', /has no cuda provider/);
  });

  test('installed: worth trying, and prepareProvider links the libraries beside libonnxruntime', () => {
    const binding = temps.tempDir('binding');
    const root = temps.tempDir('storage');
    const dir = fakeInstall(root);
    assert.equal(precheckProvider('cuda', CUDA_BUILD, binding, { providerLibraryDir: root }), null);
    assert.equal(prepareProvider('cuda', binding, { providerLibraryDir: root }), null);
    for (const f of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) {
      assert.equal(fs.readlinkSync(path.join(binding, f)), path.join(dir, f));
    }
    assert.deepEqual(fs.readdirSync(binding).sort(), ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'], 'no temporary files left');
    assert.equal(precheckProvider('cuda', CUDA_BUILD, binding), null, 'found beside libonnxruntime from now on');
    assert.equal(prepareProvider('cuda', binding, { providerLibraryDir: root }), null, 'again: nothing to do');
    // a stale link (the install was removed and redone elsewhere) is replaced
    const newer = temps.tempDir('storage2');
    const newDir = fakeInstall(newer);
    fs.rmSync(dir, { recursive: true });
    assert.equal(prepareProvider('cuda', binding, { providerLibraryDir: newer }), null);
    assert.equal(fs.readlinkSync(path.join(binding, 'libonnxruntime_providers_cuda.so')), path.join(newDir, 'libonnxruntime_providers_cuda.so'));
  });

  test('a binding folder that cannot be written: the reason says where and why', { skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, () => {
    const binding = temps.tempDir('binding');
    const root = temps.tempDir('storage');
    fakeInstall(root);
    fs.chmodSync(binding, 0o555);
    try {
      assert.match(prepareProvider('cuda', binding, { providerLibraryDir: root }) ?? '', /cannot place the CUDA provider library .* beside onnxruntime in .*EACCES.*must be writable/);
    } finally {
      fs.chmodSync(binding, 0o755);
    }
  });

  test('a CUDA provider whose CUDA/cuDNN libraries are missing: the reason names them and what to install', () => {
    const binding = temps.tempDir('binding');
    fs.writeFileSync(path.join(binding, 'libonnxruntime_providers_cuda.so'), elfNeeding(['libcublasLt.so.12', 'libcudnn.so.9', 'libonnxruntime_providers_shared.so', 'libc.so.6']));
    fs.writeFileSync(path.join(binding, 'libonnxruntime_providers_shared.so'), '');
    const err = new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    const reason = explainProviderFailure('cuda', err, binding, { env: {} });
    assert.equal(
      reason,
      'the CUDA provider needs libcublasLt.so.12, libcudnn.so.9, which this system does not have: install the CUDA 12 toolkit/runtime and cuDNN 9 (or add their library folder to LD_LIBRARY_PATH) (onnxruntime: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library)',
    );
    // once they are found (here through LD_LIBRARY_PATH), the next suspect is the driver
    const libs = temps.tempDir('cuda-libs');
    for (const f of ['libcublasLt.so.12', 'libcudnn.so.9']) fs.writeFileSync(path.join(libs, f), '');
    assert.match(explainProviderFailure('cuda', err, binding, { env: { LD_LIBRARY_PATH: libs } }), /^no NVIDIA driver is installed \(libcuda\.so\.1 not found\)|^CUDA could not start/);
  });

  test("onnxruntime's WebGPU adapter failure is reworded", () => {
    const err = new Error(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
    );
    const root = machine({ icds: { '/usr/share/vulkan/icd.d': { 'lvp_icd.x86_64.json': 'libvulkan_lvp.so' } } });
    const reason = explainProviderFailure('webgpu', err, null, { platform: 'linux', vulkan: surveyVulkan({ root, env: {}, home: '/home/user' }) });
    assert.equal(
      reason,
      'Dawn found no usable WebGPU adapter (onnxruntime: adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters); lavapipe before Mesa 23 lacks features Dawn requires (Debian 12: mesa-vulkan-drivers from bookworm-backports works)',
    );
  });
});
