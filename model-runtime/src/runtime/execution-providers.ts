import * as fs from 'node:fs';
import * as path from 'node:path';

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

export const CUDA_HINT =
  'install the CUDA provider with `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (needs CUDA 12 and cuDNN 9 on the system)';

/**
 * Providers to try, best first. onnxruntime-node does not fall back by itself (asking for
 * CUDA without its libraries throws), so the caller tries each and ends on CPU.
 * WebGPU is experimental in onnxruntime-node, so only an explicit request tries it.
 */
export function providerCandidates(choice: ExecutionProviderChoice, platform = process.platform): ExecutionProviderName[] {
  if (choice !== 'auto') return choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
  switch (platform) {
    case 'win32':
      return ['cuda', 'dml', 'cpu'];
    case 'darwin':
      return ['coreml', 'cpu'];
    default:
      return ['cuda', 'cpu'];
  }
}

/**
 * Reasons known without creating a session, so a missing provider costs nothing and
 * onnxruntime prints no library-loading errors. null: worth trying.
 */
export function precheckProvider(name: ExecutionProviderName, supported: readonly { name: string; bundled: boolean }[], bindingDir: string | null): string | null {
  if (name === 'cpu') return null;
  const entry = supported.find((b) => b.name === name);
  if (!entry) return `this onnxruntime-node build for ${process.platform}/${process.arch} has no ${name} provider`;
  if (name === 'cuda' && !entry.bundled) {
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!bindingDir || !fs.existsSync(path.join(bindingDir, lib))) return `CUDA provider library ${lib} is not installed; ${CUDA_HINT}`;
  }
  return null;
}
