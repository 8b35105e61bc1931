/**
 * Installs onnxruntime's CUDA execution provider for the onnxruntime-node in use, without npm: the
 * same NuGet package onnxruntime-node's own install script uses (Microsoft.ML.OnnxRuntime.Gpu.Linux
 * of the same version), resolved through the NuGet v3 service index, downloaded with HTTP Range
 * resume into a partial file, checked against the SHA512 NuGet's catalog records, and reduced to
 * the two libraries the provider needs, written into
 * `<root>/onnxruntime-<version>-<platform>-<arch>/` with a `manifest.json` written last.
 * `activateCudaProvider` then links them beside libonnxruntime.so.1, the only folder onnxruntime
 * loads providers from.
 *
 * The steps live in `cuda/`: target (what and where), nuget-package (resolve), package-download
 * (download and verify), extract-libraries (unzip), installed (manifest, lookup), activate (link).
 */
import { ProviderInstallError } from '../errors';
import { extractProviderLibraries } from './cuda/extract-libraries';
import { findCudaProviderInstall, writeManifest, type CudaProviderInstall, type CudaProviderManifest } from './cuda/installed';
import { fileSystemError } from './cuda/install-errors';
import { resolveCudaProviderPackage, type ResolvedCudaPackage } from './cuda/nuget-package';
import { discardDownload, downloadPackage, verifyPackage } from './cuda/package-download';
import { cudaProviderTarget, installDirFor, type CudaProviderTarget } from './cuda/target';

export { ProviderInstallError, type ProviderInstallFailure } from '../errors';
export { activateCudaProvider } from './cuda/activate';
export { findCudaProviderInstall, otherCudaProviderInstalls, type CudaProviderInstall, type CudaProviderManifest } from './cuda/installed';
export { NUGET_SERVICE_INDEX, resolveCudaProviderPackage, type ResolvedCudaPackage } from './cuda/nuget-package';
export { cudaProviderTarget, installDirFor, onnxruntimeVersion, type CudaProviderFile, type CudaProviderTarget } from './cuda/target';

export type InstallPhase = 'resolve' | 'download' | 'verify' | 'extract' | 'done';

export interface InstallProgress {
  phase: InstallPhase;
  /** bytes of the package on disk (download, verify) or extracted (extract) */
  bytes: number;
  /** bytes expected in this phase (0 while resolving) */
  total: number;
}

export interface InstallOptions {
  /** where installs live (the extension's global storage, say); the versioned folder goes inside */
  root: string;
  /** NuGet v3 service index; default api.nuget.org */
  serviceIndex?: string;
  signal?: AbortSignal;
  onProgress?: (progress: InstallProgress) => void;
  /** from resolveCudaProviderPackage, to skip resolving twice (after asking the user, say) */
  resolved?: ResolvedCudaPackage;
  target?: CudaProviderTarget;
}

/**
 * Downloads, verifies and unpacks the CUDA provider libraries into `installDirFor(root, target)`.
 * Calling it again after a failure or a cancel resumes the download; calling it when the install
 * is complete returns it without network access.
 */
export async function installCudaProvider(options: InstallOptions): Promise<CudaProviderInstall> {
  const { root, signal } = options;
  const target = options.target ?? cudaProviderTarget();
  const onProgress = options.onProgress ?? (() => undefined);
  const existing = findCudaProviderInstall(root, target);
  if (existing && (!options.resolved || existing.manifest.package.sha512 === options.resolved.sha512)) {
    onProgress({ phase: 'done', bytes: 0, total: 0 });
    return existing;
  }
  onProgress({ phase: 'resolve', bytes: 0, total: 0 });
  const pkg = options.resolved ?? (await resolveCudaProviderPackage({ target, ...(options.serviceIndex ? { serviceIndex: options.serviceIndex } : {}), ...(signal ? { signal } : {}) }));
  const nupkg = await downloadPackage(pkg, root, signal, (bytes) => onProgress({ phase: 'download', bytes, total: pkg.size }));
  onProgress({ phase: 'verify', bytes: 0, total: pkg.size });
  await verifyPackage(nupkg, pkg, root, signal, (bytes) => onProgress({ phase: 'verify', bytes, total: pkg.size }));

  const dir = installDirFor(root, target);
  const files = await extractProviderLibraries(nupkg, target, dir, signal, (bytes, total) => onProgress({ phase: 'extract', bytes, total })).catch((err: unknown) => {
    // a package that verified but does not unpack will not unpack next time either
    if (err instanceof ProviderInstallError && err.reason === 'bad-package') discardDownload(root, pkg);
    throw err;
  });
  const manifest = manifestFor(target, pkg, files);
  try {
    writeManifest(dir, manifest);
  } catch (err) {
    throw fileSystemError(err, dir, 'the install manifest', 0);
  }
  discardDownload(root, pkg);
  const unpacked = files.reduce((n, f) => n + f.size, 0);
  onProgress({ phase: 'done', bytes: unpacked, total: unpacked });
  return { dir, manifest };
}

function manifestFor(target: CudaProviderTarget, pkg: ResolvedCudaPackage, files: CudaProviderManifest['files']): CudaProviderManifest {
  return {
    onnxruntimeVersion: target.onnxruntimeVersion,
    platform: target.platform,
    arch: target.arch,
    package: { id: pkg.id, version: pkg.version, url: pkg.url, sha512: pkg.sha512 },
    files,
    installedAt: new Date().toISOString(),
  };
}
