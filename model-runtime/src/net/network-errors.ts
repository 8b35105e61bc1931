/** Error codes Node's fetch reports (in `cause`) when the host cannot be reached at all. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The first errno-style code in an error's cause chain (fetch wraps them in TypeError('fetch failed')). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // AggregateError from happy-eyeballs connection attempts carries the codes in `errors`
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) return networkErrorCode(inner[0]);
  }
  return undefined;
}

export function isUnreachable(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/** A failure of the local file system (open, write: disk full, permissions), not of the network. */
export function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  return typeof (err as NodeJS.ErrnoException | undefined)?.syscall === 'string';
}
