/**
 * Is there a real GPU behind WebGPU? onnxruntime's WebGPU provider runs on Dawn, which on Linux
 * uses whatever Vulkan drivers the loader finds, software ones included (lavapipe, SwiftShader);
 * those are far slower than the CPU provider, so `auto` must not choose them.
 *
 * Windows (D3D12) and macOS (Metal) adapters are taken to be hardware. On Linux the answer comes
 * from the files the Vulkan loader itself would read, without loading any driver: the loader
 * library, the driver (ICD) manifests in the loader's search path, and the GPU device nodes
 * (`/dev/dri/renderD*` with their PCI vendor and kernel driver, `/dev/nvidia*`, WSL's `/dev/dxg`).
 * A hardware driver only counts when a device it can drive is present: Mesa installs manifests
 * for Intel, AMD and virtio GPUs on every machine, GPU or not.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type VulkanDriverKind = 'hardware' | 'software' | 'unknown';

export interface VulkanDriver {
  /** the manifest (ICD JSON) file */
  manifest: string;
  /** `ICD.library_path` as written in the manifest */
  library: string;
  /** a readable name: "lavapipe", "NVIDIA", "Intel (ANV)"… */
  name: string;
  kind: VulkanDriverKind;
  /** hardware and unknown drivers: a device it can drive is present */
  devicePresent: boolean;
}

export interface GpuDevice {
  /** the device node, e.g. /dev/dri/renderD128 */
  node: string;
  /** PCI vendor id, when sysfs says */
  vendorId: number | null;
  /** kernel driver bound to the device (i915, amdgpu, nvidia, msm…), when sysfs says */
  kernelDriver: string | null;
}

export interface VulkanSurvey {
  /** path of the Vulkan loader library found, or null */
  loader: string | null;
  /** folders and files the manifests were looked for in, in the loader's order */
  searched: string[];
  drivers: VulkanDriver[];
  devices: GpuDevice[];
}

export interface SurveyOptions {
  /** prefix for every absolute path read (tests point it at a prepared folder); default "/" */
  root?: string;
  env?: NodeJS.ProcessEnv;
  /** folder standing for $HOME in the default search path; default os.homedir() */
  home?: string;
}

interface DriverClass {
  match: RegExp;
  name: string;
  kind: VulkanDriverKind;
  /** PCI vendor ids of the GPUs it drives */
  vendors?: number[];
  /** kernel drivers of the devices it drives */
  kernelDrivers?: string[];
  /** device nodes outside /dev/dri that it drives */
  nodes?: RegExp;
}

const NVIDIA = 0x10de;
const AMD = 0x1002;
const INTEL = 0x8086;
const VIRTIO = 0x1af4;

// Matched against the driver library's file name, then the manifest's.
const DRIVER_CLASSES: DriverClass[] = [
  { match: /lvp|lavapipe/, name: 'lavapipe', kind: 'software' },
  { match: /swiftshader/, name: 'SwiftShader', kind: 'software' },
  { match: /nouveau|nvk/, name: 'NVK (nouveau)', kind: 'hardware', kernelDrivers: ['nouveau'] },
  { match: /nvidia/, name: 'NVIDIA', kind: 'hardware', vendors: [NVIDIA], nodes: /^nvidia\d+$/ },
  { match: /radeon|amdvlk|amd_icd/, name: 'AMD (RADV/AMDVLK)', kind: 'hardware', vendors: [AMD] },
  { match: /intel/, name: 'Intel (ANV)', kind: 'hardware', vendors: [INTEL] },
  { match: /freedreno|turnip/, name: 'Turnip (Adreno)', kind: 'hardware', kernelDrivers: ['msm'] },
  { match: /panfrost|panvk/, name: 'PanVK (Mali)', kind: 'hardware', kernelDrivers: ['panfrost', 'panthor'] },
  { match: /broadcom|v3dv/, name: 'V3DV (VideoCore)', kind: 'hardware', kernelDrivers: ['v3d'] },
  { match: /powervr/, name: 'PowerVR', kind: 'hardware', kernelDrivers: ['powervr', 'pvrsrvkm'] },
  { match: /asahi|honeykrisp/, name: 'Honeykrisp (Apple GPU)', kind: 'hardware', kernelDrivers: ['asahi'] },
  { match: /dzn/, name: 'Dozen (D3D12 on WSL)', kind: 'hardware', nodes: /^dxg$/ },
  { match: /virtio|venus/, name: 'Venus (virtio-gpu)', kind: 'hardware', vendors: [VIRTIO], kernelDrivers: ['virtio-pci', 'virtio_gpu'] },
  { match: /gfxstream/, name: 'gfxstream (emulator)', kind: 'hardware', vendors: [VIRTIO], kernelDrivers: ['virtio-pci', 'virtio_gpu'] },
];

const LOADER_NAMES = ['libvulkan.so.1'];
const LIBRARY_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/lib64',
  '/usr/lib',
  '/lib',
  '/usr/local/lib',
];

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function splitPaths(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((p) => p.length > 0);
}

/** The manifest folders and files the Linux Vulkan loader reads, in its order. */
export function driverSearchPath(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const added = splitPaths(env.VK_ADD_DRIVER_FILES);
  const override = splitPaths(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  if (override.length > 0) return [...added, ...override];
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const dataHome = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
  const configDirs = splitPaths(env.XDG_CONFIG_DIRS);
  const dataDirs = splitPaths(env.XDG_DATA_DIRS);
  const icd = (base: string) => path.join(base, 'vulkan', 'icd.d');
  return [
    ...added,
    icd(configHome),
    ...(configDirs.length > 0 ? configDirs : ['/etc/xdg']).map(icd),
    icd('/usr/local/etc'),
    icd('/etc'),
    icd(dataHome),
    ...(dataDirs.length > 0 ? dataDirs : ['/usr/local/share', '/usr/share']).map(icd),
  ].filter((p, i, all) => all.indexOf(p) === i);
}

/** Shell-style globs of VK_LOADER_DRIVERS_SELECT / _DISABLE ("*" only), against the manifest's file name. */
function globMatches(patterns: string[], file: string): boolean {
  const name = path.basename(file);
  return patterns.some((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name));
}

function classify(library: string, manifest: string): DriverClass | null {
  const lib = path.basename(library).toLowerCase();
  const man = path.basename(manifest).toLowerCase();
  return DRIVER_CLASSES.find((c) => c.match.test(lib)) ?? DRIVER_CLASSES.find((c) => c.match.test(man)) ?? null;
}

function findLoader(at: (p: string) => string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of [...splitPaths(env.LD_LIBRARY_PATH), ...LIBRARY_DIRS]) {
    for (const name of LOADER_NAMES) {
      const file = path.join(dir, name);
      if (fs.existsSync(at(file))) return file;
    }
  }
  // the dynamic linker's cache also lists libraries in folders configured in /etc/ld.so.conf.d
  try {
    const cache = fs.readFileSync(at('/etc/ld.so.cache'));
    for (const name of LOADER_NAMES) if (cache.includes(`${name}\0`)) return `${name} (ld.so.cache)`;
  } catch {
    // no cache: nothing more to look at
  }
  return null;
}

function gpuDevices(at: (p: string) => string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const name of listDir(at('/dev/dri')).filter((n) => /^renderD\d+$/.test(n))) {
    const sys = at(`/sys/class/drm/${name}/device`);
    const vendor = readText(path.join(sys, 'vendor'));
    let kernelDriver: string | null = null;
    try {
      kernelDriver = path.basename(fs.readlinkSync(path.join(sys, 'driver')));
    } catch {
      // not in sysfs (a container without /sys/class/drm): vendor unknown
    }
    const vendorId = vendor && /^0x[0-9a-f]+\s*$/i.test(vendor) ? Number.parseInt(vendor, 16) : null;
    devices.push({ node: `/dev/dri/${name}`, vendorId, kernelDriver });
  }
  for (const name of listDir(at('/dev')).filter((n) => /^nvidia\d+$/.test(n) || n === 'dxg')) {
    devices.push({ node: `/dev/${name}`, vendorId: name === 'dxg' ? null : NVIDIA, kernelDriver: name === 'dxg' ? 'dxgkrnl' : 'nvidia' });
  }
  return devices;
}

function drives(c: DriverClass, d: GpuDevice): boolean {
  const node = path.basename(d.node);
  if (c.nodes?.test(node)) return true;
  if (!node.startsWith('renderD')) return false;
  if (c.kernelDrivers && d.kernelDriver && c.kernelDrivers.includes(d.kernelDriver)) return true;
  // the proprietary NVIDIA driver and Mesa's NVK both drive vendor 0x10de; tell them apart by kernel driver
  if (c.vendors && d.vendorId !== null && c.vendors.includes(d.vendorId)) {
    if (c.kernelDrivers && d.kernelDriver) return c.kernelDrivers.includes(d.kernelDriver);
    if (c.name === 'NVIDIA' && d.kernelDriver) return d.kernelDriver === 'nvidia';
    return true;
  }
  return false;
}

/** Reads what the Vulkan loader would find on this (Linux) machine. Never loads a driver. */
export function surveyVulkan(options: SurveyOptions = {}): VulkanSurvey {
  const root = options.root ?? '/';
  const env = options.env ?? process.env;
  const at = (p: string) => (root === '/' ? p : path.join(root, p));
  const searched = driverSearchPath(env, options.home ?? os.homedir());
  const manifests: string[] = [];
  for (const entry of searched) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(at(entry));
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      for (const name of listDir(at(entry))) if (name.endsWith('.json')) manifests.push(path.join(entry, name));
    } else {
      manifests.push(entry);
    }
  }
  const select = splitPaths(env.VK_LOADER_DRIVERS_SELECT?.replace(/,/g, ':'));
  const disable = splitPaths(env.VK_LOADER_DRIVERS_DISABLE?.replace(/,/g, ':'));
  const devices = gpuDevices(at);
  const drivers: VulkanDriver[] = [];
  const seen = new Set<string>();
  for (const manifest of manifests) {
    if (seen.has(manifest)) continue;
    seen.add(manifest);
    if (select.length > 0 && !globMatches(select, manifest)) continue;
    if (disable.length > 0 && globMatches(disable, manifest)) continue;
    let library: unknown;
    try {
      library = (JSON.parse(fs.readFileSync(at(manifest), 'utf8')) as { ICD?: { library_path?: unknown } }).ICD?.library_path;
    } catch {
      continue; // the loader skips unreadable manifests too
    }
    if (typeof library !== 'string' || library.length === 0) continue;
    const c = classify(library, manifest);
    const kind = c?.kind ?? 'unknown';
    const devicePresent = c ? c.kind === 'hardware' && devices.some((d) => drives(c, d)) : devices.length > 0;
    drivers.push({ manifest, library, name: c?.name ?? path.basename(library), kind, devicePresent });
  }
  return { loader: findLoader(at, env), searched, drivers, devices };
}

/** "lavapipe", "lavapipe, SwiftShader": driver names without repeats (Debian ships one manifest per architecture). */
function names(drivers: readonly VulkanDriver[]): string {
  return [...new Set(drivers.map((d) => d.name))].join(', ');
}

/**
 * Why WebGPU should not be tried, or null to try it. `explicit`: the user asked for webgpu, so a
 * software adapter is acceptable (that is how CI checks the WebGPU path); `auto` wants hardware.
 */
export function webgpuSkipReason(platform: NodeJS.Platform, survey: VulkanSurvey | null, explicit: boolean): string | null {
  if (platform === 'win32' || platform === 'darwin') return null; // D3D12 / Metal adapters: hardware
  if (platform !== 'linux' || !survey) return explicit ? null : `no GPU detection for ${platform}; ask for webgpu explicitly to try it`;
  if (!survey.loader) {
    return 'no Vulkan loader (libvulkan.so.1) is installed, and Dawn, the WebGPU implementation, runs on Vulkan here (Debian/Ubuntu: apt-get install libvulkan1 and your GPU\'s Vulkan driver)';
  }
  if (survey.drivers.length === 0) {
    return `no Vulkan driver is installed (no ICD manifest in ${survey.searched.join(', ')})`;
  }
  if (explicit) return null;
  const usable = survey.drivers.filter((d) => d.kind !== 'software' && d.devicePresent);
  if (usable.length > 0) return null;
  const software = survey.drivers.filter((d) => d.kind === 'software');
  const idle = survey.drivers.filter((d) => d.kind !== 'software');
  const slow = 'it is slower than the CPU provider; ask for webgpu explicitly to use it anyway';
  if (idle.length === 0) return `only a software Vulkan driver (${names(software)}) is installed: ${slow}`;
  const where = survey.devices.length === 0 ? 'none of /dev/dri/renderD*, /dev/nvidia* exists' : `found only ${survey.devices.map((d) => d.node).join(', ')}`;
  const noDevice = `no GPU was found for the installed ${names(idle)} Vulkan drivers (${where})`;
  return software.length > 0 ? `only a software Vulkan adapter (${names(software)}) is usable, ${noDevice}: ${slow}` : noDevice;
}

/** The hardware Vulkan drivers WebGPU can use here (for reports); empty off Linux. */
export function hardwareVulkanDrivers(survey: VulkanSurvey): VulkanDriver[] {
  return survey.drivers.filter((d) => d.kind !== 'software' && d.devicePresent);
}
