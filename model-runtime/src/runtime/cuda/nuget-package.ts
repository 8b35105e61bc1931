import { ProviderInstallError } from '../../errors';
import { getJson } from './nuget-http';
import { cudaProviderTarget, type CudaProviderTarget } from './target';

export const NUGET_SERVICE_INDEX = 'https://api.nuget.org/v3/index.json';

export interface ResolvedCudaPackage {
  id: string;
  version: string;
  /** the .nupkg under the feed's PackageBaseAddress */
  url: string;
  /** bytes, from the catalog */
  size: number;
  /** base64 SHA512 of the .nupkg, from the catalog */
  sha512: string;
}

const REGISTRATION_TYPES = ['RegistrationsBaseUrl/3.6.0', 'RegistrationsBaseUrl/3.4.0', 'RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.0.0-rc', 'RegistrationsBaseUrl/3.0.0-beta'];

/**
 * Finds the package for `target` on a NuGet v3 feed: its .nupkg URL (PackageBaseAddress/3.0.0) and
 * the size and SHA512 NuGet's catalog records for it (registration leaf → catalog entry).
 */
export async function resolveCudaProviderPackage(options: { serviceIndex?: string; signal?: AbortSignal; target?: CudaProviderTarget } = {}): Promise<ResolvedCudaPackage> {
  const target = options.target ?? cudaProviderTarget();
  const indexUrl = options.serviceIndex ?? NUGET_SERVICE_INDEX;
  const id = target.packageId.toLowerCase();
  const version = target.onnxruntimeVersion.toLowerCase();
  const label = `${target.packageId} ${target.onnxruntimeVersion}`;
  const index = await getJson(indexUrl, 'the NuGet service index', options.signal);
  const base = resourceOf(index, ['PackageBaseAddress/3.0.0']);
  const registrations = resourceOf(index, REGISTRATION_TYPES);
  if (!base || !registrations) {
    throw new ProviderInstallError('bad-response', `the NuGet service index ${indexUrl} lists no ${base ? 'RegistrationsBaseUrl' : 'PackageBaseAddress/3.0.0'} resource`);
  }
  const leaf = await registrationLeaf(`${registrations}${id}/${version}.json`, label, target, options.signal);
  const entry = await catalogEntry(leaf, label, options.signal);
  const { size, sha512 } = packageHash(entry, label);
  return { id: target.packageId, version: target.onnxruntimeVersion, url: `${base}${id}/${version}/${id}.${version}.nupkg`, size, sha512 };
}

/** The `@id` of the first resource of the first of `types` the index lists, ending in a slash. */
function resourceOf(index: Record<string, unknown>, types: readonly string[]): string | null {
  const resources = Array.isArray(index.resources) ? (index.resources as Record<string, unknown>[]) : [];
  for (const type of types) {
    const found = resources.find((r) => r && r['@type'] === type && typeof r['@id'] === 'string');
    if (found) {
      const id = found['@id'] as string;
      return id.endsWith('/') ? id : `${id}/`;
    }
  }
  return null;
}

async function registrationLeaf(url: string, label: string, target: CudaProviderTarget, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
  try {
    return await getJson(url, `the NuGet registration of ${label}`, signal);
  } catch (err) {
    if (err instanceof ProviderInstallError && err.reason === 'not-found') {
      throw new ProviderInstallError('not-found', `NuGet has no ${label}, the CUDA provider for onnxruntime-node ${target.onnxruntimeVersion} (${err.message})`, { cause: err });
    }
    throw err;
  }
}

/** A standalone leaf names its catalog entry by URL; one inlined in a registration page is an object. */
async function catalogEntry(leaf: Record<string, unknown>, label: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
  const ref = leaf.catalogEntry;
  const what = `the NuGet catalog entry of ${label}`;
  if (typeof ref === 'string') return getJson(ref, what, signal);
  if (ref && typeof ref === 'object') {
    const inline = ref as Record<string, unknown>;
    if ('packageHash' in inline) return inline;
    if (typeof inline['@id'] === 'string') return getJson(inline['@id'], what, signal);
  }
  throw new ProviderInstallError('bad-response', `the NuGet registration of ${label} has no catalogEntry`);
}

/** Size and SHA512 from the catalog entry; without them the download could not be verified, so it is refused. */
function packageHash(entry: Record<string, unknown>, label: string): { size: number; sha512: string } {
  const algorithm = String(entry.packageHashAlgorithm ?? '').toUpperCase();
  const hash = entry.packageHash;
  const size = entry.packageSize;
  if (algorithm !== 'SHA512' || typeof hash !== 'string' || Buffer.from(hash, 'base64').length !== 64) {
    throw new ProviderInstallError('bad-response', `the NuGet catalog entry of ${label} has no SHA512 packageHash (got ${algorithm || 'none'}); refusing to install an unverifiable package`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    throw new ProviderInstallError('bad-response', `the NuGet catalog entry of ${label} has no packageSize`);
  }
  return { size, sha512: hash };
}
