// The launcher's commands on a host, as argv built from fixed words, the code folder and run folders
// only (remote-words.ts checks each word): control.py, and the TPU pipeline's phase module. Both
// print one JSON object as their last line of stdout, {"error": …} when they fail.
import type { RemoteTransport } from './transport';
import { RemoteCommandError } from './errors';

/** Where the launcher's code (training/remote) lies on the host, and the interpreter that runs it. */
export interface RemoteCode {
  python: string;
  dir: string;
}

export const controlArgv = (code: RemoteCode, args: readonly string[]): string[] => [code.python, `${code.dir}/control.py`, ...args];

export const tpuPhaseArgv = (code: RemoteCode, args: readonly string[]): string[] => ['env', `PYTHONPATH=${code.dir}`, code.python, '-m', 'pix2struct_remote.tpu', ...args];

/** The last line of a command's stdout as JSON, or undefined when it is not JSON. */
export function lastJsonLine(stdout: string): unknown {
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return undefined;
  }
}

/** Runs one of those commands and returns its JSON answer; a failure becomes RemoteCommandError with the command's own message. */
export async function runJsonCommand(
  transport: RemoteTransport,
  code: RemoteCode,
  argv: readonly string[],
  what: string,
  options: { stdin?: string; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<unknown> {
  const r = await transport.exec(argv, options);
  const parsed = lastJsonLine(r.stdout);
  if (r.code === 127) {
    throw new RemoteCommandError(transport.label, what, r.code, r.stderr, `${code.python} was not found on the host; install Python 3.8 or newer there`);
  }
  if (r.code !== 0) {
    const detail = parsed && typeof parsed === 'object' && 'error' in parsed ? String((parsed as { error: unknown }).error) : undefined;
    throw new RemoteCommandError(transport.label, what, r.code, r.stderr, detail);
  }
  if (parsed === undefined) throw new RemoteCommandError(transport.label, what, r.code, r.stderr, `printed no JSON: ${r.stdout.slice(0, 200)}`);
  return parsed;
}
