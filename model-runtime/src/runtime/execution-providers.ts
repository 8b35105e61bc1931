import * as fs from 'node:fs';
import * as path from 'node:path';
import { activateCudaProvider, cudaProviderTarget, findCudaProviderInstall, otherCudaProviderInstalls } from './cuda-provider-install';
import { surveyVulkan, webgpuSkipReason, type VulkanSurvey } from './gpu-detection';
import { libraryFindable, missingDependencies, readDynamicInfo } from './shared-library-deps';

export type ExecutionProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export type ExecutionProviderChoice = 'auto' | ExecutionProviderName;
export const EXECUTION_PROVIDER_CHOICES: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

export interface SkippedProvider {
  name: ExecutionProviderName;
  reason: string;
}

/** Which provider runs a model and why the ones tried before it did not. */
export interface ProviderReport {
  used: ExecutionProviderName;
  skipped: SkippedProvider[];
}

export const CUDA_HINT = 'run "Pix2Struct: Enable CUDA" from the Command Palette to install it (CUDA 12 and cuDNN 9 must be installed on the system)';

/** What provider checks need beyond the provider's name. */
export interface ProviderContext {
  /** the user asked for this provider by name: a software WebGPU adapter is then acceptable */
  explicit?: boolean;
  /** where "Pix2Struct: Enable CUDA" installs provider libraries (installCudaProvider's root) */
  providerLibraryDir?: string;
  platform?: NodeJS.Platform;
  /** the Vulkan drivers and GPUs of this machine; surveyed when first needed if absent */
  vulkan?: VulkanSurvey | null;
  env?: NodeJS.ProcessEnv;
}

/**
 * Providers to try, best first. onnxruntime-node does not fall back by itself (asking for
 * CUDA without its libraries throws), so the caller tries each and ends on CPU. WebGPU comes
 * after the vendor providers and, under `auto`, only where a hardware adapter is present
 * (precheckProvider): a software Vulkan adapter is far slower than the CPU provider.
 */
export function providerCandidates(choice: ExecutionProviderChoice, platform: NodeJS.Platform = process.platform): ExecutionProviderName[] {
  if (choice !== 'auto') return choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
  switch (platform) {
    case 'win32':
      return ['cuda', 'dml', 'webgpu', 'cpu'];
    case 'darwin':
      return ['coreml', 'webgpu', 'cpu'];
    default:
      return ['cuda', 'webgpu', 'cpu'];
  }
}

function cudaLibraryName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

function installedElsewhere(ctx: ProviderContext): string {
  if (!ctx.providerLibraryDir) return '';
  try {
    const others = otherCudaProviderInstalls(ctx.providerLibraryDir, cudaProviderTarget());
    return others.length > 0 ? ` for this onnxruntime-node (installed: ${others.join(', ')})` : '';
  } catch {
    return '';
  }
}

function survey(ctx: ProviderContext): VulkanSurvey | null {
  if (ctx.vulkan === undefined) ctx.vulkan = (ctx.platform ?? process.platform) === 'linux' ? surveyVulkan(ctx.env ? { env: ctx.env } : {}) : null;
  return ctx.vulkan;
}

/**
 * Reasons known without creating a session, so a missing provider costs nothing and
 * onnxruntime prints no library-loading errors. null: worth trying.
 */
export function precheckProvider(
  name: ExecutionProviderName,
  supported: readonly { name: string; bundled: boolean }[],
  bindingDir: string | null,
  ctx: ProviderContext = {},
): string | null {
  if (name === 'cpu') return null;
  const platform = ctx.platform ?? process.platform;
  const entry = supported.find((b) => b.name === name);
  if (!entry) return `this onnxruntime-node build for ${platform}/${process.arch} has no ${name} provider`;
  if (name === 'cuda' && !entry.bundled) {
    const lib = cudaLibraryName(platform);
    if (bindingDir && fs.existsSync(path.join(bindingDir, lib))) return null;
    if (ctx.providerLibraryDir && findCudaProviderInstall(ctx.providerLibraryDir)) return null;
    return `CUDA provider library ${lib} is not installed${installedElsewhere(ctx)}; ${CUDA_HINT}`;
  }
  if (name === 'webgpu') return webgpuSkipReason(platform, survey(ctx), ctx.explicit ?? false);
  return null;
}

/**
 * Last step before a session asks for `name`: puts CUDA libraries installed by "Enable CUDA"
 * beside libonnxruntime, where onnxruntime loads them from. Returns why the provider cannot be
 * tried, or null.
 */
export function prepareProvider(name: ExecutionProviderName, bindingDir: string | null, ctx: ProviderContext = {}): string | null {
  if (name !== 'cuda' || !ctx.providerLibraryDir || !bindingDir) return null;
  const lib = cudaLibraryName(ctx.platform ?? process.platform);
  if (fs.existsSync(path.join(bindingDir, lib))) return null;
  const install = findCudaProviderInstall(ctx.providerLibraryDir);
  if (!install) return null; // precheck already said it is not installed
  try {
    activateCudaProvider(install, bindingDir);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** onnxruntime's message without its source location and function signature. */
function onnxruntimeMessage(err: unknown): string {
  let e = err as { message?: unknown; cause?: unknown } | undefined;
  while (e && e.cause && typeof (e.cause as { message?: unknown }).message === 'string') e = e.cause as typeof e;
  const raw = String(e?.message ?? err).trim();
  const afterCode = /\[ONNXRuntimeError\] : \d+ : \w+ : ([\s\S]*)$/.exec(raw);
  const text = afterCode ? afterCode[1]! : raw.replace(/^\S+\.(?:cc|cpp|h):\d+ [^ ]*?(?:\([^)]*\))?(?:::<lambda\(\)>)? /, '');
  const firstLine = text.split('\n')[0]!.trim();
  return firstLine.length > 300 ? `${firstLine.slice(0, 297)}...` : firstLine;
}

const CUDA_LIBRARY_HINTS: [RegExp, string][] = [
  [/^libcudnn/, 'cuDNN 9'],
  [/^libcu|^libnv/, 'the CUDA 12 toolkit/runtime'],
];

/**
 * Why creating a session with `name` failed, in words a user can act on. onnxruntime's own
 * message for CUDA is only "Failed to load shared library", so the provider library's
 * dependencies are checked here to name what is missing.
 */
export function explainProviderFailure(name: ExecutionProviderName, err: unknown, bindingDir: string | null, ctx: ProviderContext = {}): string {
  const ort = onnxruntimeMessage(err);
  const platform = ctx.platform ?? process.platform;
  if (name === 'cuda' && platform === 'linux' && bindingDir) {
    const lib = path.join(bindingDir, cudaLibraryName(platform));
    const missing = missingDependencies(lib, [bindingDir], ctx.env);
    if (missing === null) {
      let shown = lib;
      try {
        shown = fs.realpathSync(lib); // the install's file, not the link beside libonnxruntime
      } catch {
        // dangling: name the link
      }
      return `the CUDA provider library ${shown} is damaged or not a Linux x64 library (onnxruntime: ${ort}); ${CUDA_HINT.replace('to install it', 'to install it again')}`;
    }
    if (missing.length > 0) {
      const needs = [...new Set(missing.map((m) => CUDA_LIBRARY_HINTS.find(([re]) => re.test(m))?.[1] ?? 'CUDA 12 and cuDNN 9'))];
      return `the CUDA provider needs ${missing.join(', ')}, which this system does not have: install ${needs.join(' and ')} (or add their library folder to LD_LIBRARY_PATH) (onnxruntime: ${ort})`;
    }
    if (!libraryFindable('libcuda.so.1', [], ctx.env)) return `no NVIDIA driver is installed (libcuda.so.1 not found) (onnxruntime: ${ort})`;
    if (readDynamicInfo(lib)) return `CUDA could not start: ${ort} (is an NVIDIA GPU present, and the driver new enough for CUDA 12?)`;
  }
  if (name === 'webgpu' && /WebGPU adapter/i.test(ort)) {
    const v = platform === 'linux' ? survey(ctx) : null;
    const onlyLavapipe = v && v.drivers.length > 0 && v.drivers.every((d) => d.kind === 'software' || !d.devicePresent) && v.drivers.some((d) => d.name === 'lavapipe');
    return `Dawn found no usable WebGPU adapter (onnxruntime: ${ort})${onlyLavapipe ? '; lavapipe before Mesa 23 lacks features Dawn requires (Debian 12: mesa-vulkan-drivers from bookworm-backports works)' : ''}`;
  }
  return ort;
}
