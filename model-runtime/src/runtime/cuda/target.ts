import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProviderInstallError } from '../../errors';

export interface CudaProviderFile {
  /** file name beside libonnxruntime.so.1 */
  name: string;
  /** path inside the .nupkg */
  entry: string;
}

/** What to install: the NuGet package of onnxruntime-node's own version, and the files it needs from it. */
export interface CudaProviderTarget {
  onnxruntimeVersion: string;
  platform: string;
  arch: string;
  packageId: string;
  files: CudaProviderFile[];
}

/** The installed onnxruntime-node's version (its package.json). */
export function onnxruntimeVersion(): string {
  const file = require.resolve('onnxruntime-node/package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/**
 * What to install for this onnxruntime-node on this platform. Only linux-x64: onnxruntime-node
 * 1.30's Windows and macOS bindings are built without CUDA (Windows uses DirectML, bundled), and
 * Linux arm64 has no CUDA package.
 */
export function cudaProviderTarget(options: { platform?: string; arch?: string; onnxruntimeVersion?: string } = {}): CudaProviderTarget {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const version = options.onnxruntimeVersion ?? onnxruntimeVersion();
  if (platform !== 'linux' || arch !== 'x64') {
    throw new ProviderInstallError('unsupported-platform', `onnxruntime-node ${version} supports the CUDA provider only on Linux x64, not ${platform}-${arch}; ${otherGpuRoute(platform)}`);
  }
  const native = 'runtimes/linux-x64/native';
  return {
    onnxruntimeVersion: version,
    platform,
    arch,
    packageId: 'Microsoft.ML.OnnxRuntime.Gpu.Linux',
    files: [
      { name: 'libonnxruntime_providers_shared.so', entry: `${native}/libonnxruntime_providers_shared.so` },
      { name: 'libonnxruntime_providers_cuda.so', entry: `${native}/libonnxruntime_providers_cuda.so` },
    ],
  };
}

function otherGpuRoute(platform: string): string {
  if (platform === 'win32') return 'on Windows the DirectML provider (bundled, executionProvider "dml" or "auto") uses the GPU';
  if (platform === 'darwin') return 'on macOS use CoreML or WebGPU';
  return 'use the CPU or WebGPU provider';
}

/** `<root>/onnxruntime-<version>-<platform>-<arch>`: one folder per onnxruntime version, so an upgrade never mixes them. */
export function installDirFor(root: string, target: CudaProviderTarget): string {
  return path.join(root, `onnxruntime-${target.onnxruntimeVersion}-${target.platform}-${target.arch}`);
}
