/**
 * What "Pix2Struct: Enable CUDA" tells the user — the consent prompt, the progress bar — kept apart
 * from src/enable-cuda.ts (which needs vscode) so it can be tested in plain Node.
 */
import { libraryFindable, type InstallProgress, type ResolvedCudaPackage } from '../model-runtime/src/index';

/** Libraries the CUDA provider loads from the system, and what provides each. */
const SYSTEM_LIBRARIES: [string, string][] = [
  ['libcuda.so.1', 'the NVIDIA driver'],
  ['libcudart.so.12', 'CUDA 12 runtime'],
  ['libcublasLt.so.12', 'cuBLAS 12'],
  ['libcudnn.so.9', 'cuDNN 9'],
];

/** The system libraries the dynamic linker does not find here, as "libcudnn.so.9 (cuDNN 9)". */
export function missingSystemLibraries(findable: (lib: string) => boolean = (lib) => libraryFindable(lib)): string[] {
  return SYSTEM_LIBRARIES.filter(([lib]) => !findable(lib)).map(([lib, what]) => `${lib} (${what})`);
}

export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/**
 * The modal question before downloading: the size up front, and in the detail what is fetched
 * from where, what the system must provide (CUDA 12, cuDNN 9, the driver) and what is missing now.
 */
export function consentPrompt(pkg: ResolvedCudaPackage, missing: readonly string[]): { message: string; detail: string } {
  const detail = [
    `Downloads ${pkg.id} ${pkg.version} (${megabytes(pkg.size)}) from NuGet, checks its SHA512 and keeps the two provider libraries it needs (several hundred MB unpacked) in the extension's storage. An interrupted download resumes.`,
    'The CUDA provider also needs, installed on this system: an NVIDIA GPU and driver, CUDA 12 and cuDNN 9. Pix2Struct does not install those.',
    missing.length > 0 ? `Not found here now: ${missing.join(', ')}. Until they are installed (or on LD_LIBRARY_PATH), inference stays on the other providers and the log says why.` : '',
  ];
  return { message: `Install the CUDA execution provider (${megabytes(pkg.size)} download)?`, detail: detail.filter(Boolean).join('\n\n') };
}

/** The install's phases on one 0–100 bar: download 90, verify 5, unpack 5. */
export function installPercent(p: InstallProgress): number {
  const part = p.total > 0 ? Math.min(1, p.bytes / p.total) : 0;
  switch (p.phase) {
    case 'resolve':
      return 0;
    case 'download':
      return 90 * part;
    case 'verify':
      return 90 + 5 * part;
    case 'extract':
      return 95 + 5 * part;
    case 'done':
      return 100;
  }
}

export function phaseText(p: InstallProgress): string {
  switch (p.phase) {
    case 'resolve':
      return 'looking up the package on NuGet…';
    case 'download':
      return `downloading ${megabytes(p.bytes)} / ${megabytes(p.total)}`;
    case 'verify':
      return 'checking the SHA512 NuGet records…';
    case 'extract':
      return 'unpacking the provider libraries…';
    case 'done':
      return 'done';
  }
}
