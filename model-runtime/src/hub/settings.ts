import { getHFHubCachePath } from '@huggingface/hub';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** The same truthy spellings Python's huggingface_hub accepts for its boolean environment variables. */
const TRUTHY = new Set(['1', 'on', 'yes', 'true']);

/** Python expands a leading "~" in its path variables; Node does not, so do it here for parity. */
function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * The hub cache folder: `cacheDir`, else what @huggingface/hub derives from the environment
 * (HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub,
 * ~/.cache/huggingface/hub), which is the order Python's huggingface_hub uses.
 */
export function resolveCacheDir(cacheDir?: string): string {
  return path.resolve(expandHome(cacheDir ?? getHFHubCachePath()));
}

export function resolveEndpoint(endpoint?: string): string {
  const value = endpoint ?? process.env.HF_ENDPOINT ?? '';
  return (value.trim() || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

export function resolveOffline(offline?: boolean): boolean {
  return offline ?? TRUTHY.has((process.env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

/** $HF_HOME, defaulting like Python's huggingface_hub (the token file lives there, not in the hub cache). */
function hfHome(): string {
  const xdg = process.env.XDG_CACHE_HOME?.trim() || path.join(os.homedir(), '.cache');
  return expandHome(process.env.HF_HOME?.trim() || path.join(xdg, 'huggingface'));
}

/**
 * The access token: the option, else HF_TOKEN, else the file `huggingface-cli login` writes
 * ($HF_TOKEN_PATH or $HF_HOME/token). Empty values count as no token, as in Python.
 */
export function resolveToken(token?: string): string | undefined {
  const explicit = token?.trim() || process.env.HF_TOKEN?.trim();
  if (explicit) return explicit;
  const file = expandHome(process.env.HF_TOKEN_PATH?.trim() || path.join(hfHome(), 'token'));
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined; // no saved login
  }
}
