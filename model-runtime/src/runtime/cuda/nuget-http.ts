/**
 * Requests to the NuGet feed, with failures worded for someone running "Enable CUDA": which host
 * could not be reached, which document answered what.
 */
import { ProviderInstallError } from '../../errors';
import { isUnreachable, networkErrorCode } from '../../net/network-errors';
import { cancelled } from './install-errors';

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The host of `url` did not answer; `keptBytes` of a download stay for the next run. */
export function unreachableError(url: string, what: string, cause: unknown, keptBytes = 0): ProviderInstallError {
  const code = networkErrorCode(cause);
  const outcome = keptBytes > 0 ? `${keptBytes} bytes are kept and running Enable CUDA again resumes from there` : 'nothing was installed';
  return new ProviderInstallError(
    'unreachable',
    `cannot reach ${hostOf(url)} for ${what}${code ? ` (${code})` : ''}: check the network connection (VS Code's proxy settings apply to the extension); ${outcome}`,
    { cause },
  );
}

export function httpStatusError(url: string, what: string, status: number, statusText: string): ProviderInstallError {
  if (status === 404) return new ProviderInstallError('not-found', `${what}: ${url} answered 404 Not Found`);
  return new ProviderInstallError('http', `${what}: ${url} answered HTTP ${status} ${statusText}`.trim());
}

/** GETs a JSON object from the feed (service index, registration leaf, catalog entry). */
export async function getJson(url: string, what: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
  const res = await request(url, what, signal);
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw httpStatusError(url, what, res.status, res.statusText);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    if (signal?.aborted) throw cancelled(`during ${what}`);
    throw new ProviderInstallError('interrupted', `${what}: the connection to ${hostOf(url)} broke (${networkErrorCode(err) ?? (err as Error).message}); try again`, { cause: err });
  }
  const value = parseJson(text);
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ProviderInstallError('bad-response', `${what}: ${url} did not answer with a JSON object`);
}

async function request(url: string, what: string, signal: AbortSignal | undefined): Promise<Response> {
  if (signal?.aborted) throw cancelled(`before ${what}`);
  try {
    return await fetch(url, { headers: { Accept: 'application/json' }, redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw cancelled(`during ${what}`);
    if (isUnreachable(err)) throw unreachableError(url, what, err);
    const code = networkErrorCode(err);
    throw new ProviderInstallError('http', `${what} from ${url} failed: ${(err as Error).message}${code ? ` (${code})` : ''}`, { cause: err });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
