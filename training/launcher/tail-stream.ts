// One `control.py tail` connection (training/PROTOCOL.md): JSON lines in, handler calls and byte
// offsets out. It ends cleanly only after a terminal status; anything else (the stream ending
// early, a stall, a failed ssh) is a reason to reconnect from the offsets, which Launcher.tail does.
import type { ExecResult, RemoteTransport } from './transport';
import type { RunStatus, TailHandlers, TailPosition } from './types';
import { isTerminal } from './run-states';
import { controlArgv, type RemoteCode } from './host-commands';
import { metricFromWire, statusFromWire } from './wire';
import { LauncherError, RemoteCommandError } from './errors';

export interface TailStreamOptions {
  transport: RemoteTransport;
  code: RemoteCode;
  runDir: string;
  /** Where to start; moved past every delivered line, so the next connection resumes there. */
  position: TailPosition;
  handlers: TailHandlers;
  /** A stream silent this long (heartbeats come every 5 s) counts as dropped. */
  stallMs: number;
  signal?: AbortSignal;
  onPosition?(position: TailPosition): void;
  /** Any data arrived: the connection works, whatever happens to it later. */
  onData(): void;
}

/** How one connection ended: with the run's terminal status, or with why it must be reconnected. */
export type TailStreamEnd = { terminal: RunStatus } | { terminal?: undefined; reason: string };

export async function followTailStream(options: TailStreamOptions): Promise<TailStreamEnd> {
  const { transport, position, signal } = options;
  const connection = new AbortController();
  const stop = () => connection.abort(signal?.reason);
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  const watchdog = new StallWatchdog(options.stallMs, () => connection.abort(new LauncherError('stream stalled')));
  const lines = new TailLines(position, options.handlers, options.onPosition);
  const argv = controlArgv(options.code, ['tail', options.runDir, String(position.logOffset), String(position.metricsOffset)]);
  let r: ExecResult;
  try {
    r = await transport.exec(argv, {
      signal: connection.signal,
      onStdout: (chunk) => {
        watchdog.rearm();
        options.onData();
        lines.push(chunk);
      },
    });
  } catch (e) {
    if (watchdog.fired && !signal?.aborted) return { reason: `no data for ${Math.round(options.stallMs / 1000)} s` };
    throw e;
  } finally {
    watchdog.clear();
    signal?.removeEventListener('abort', stop);
  }
  if (lines.remoteError !== undefined) throw new RemoteCommandError(transport.label, 'control.py tail', r.code, r.stderr, lines.remoteError);
  // A partial last line is dropped: its offset was never taken, so the next connection resends it.
  if (lines.terminal && r.code === 0) return { terminal: lines.terminal };
  return { reason: r.code === 0 ? 'the stream ended before the run did' : `tail exited with ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}` };
}

/** Calls `onStall` once nothing has arrived for `ms`; every chunk re-arms it. */
class StallWatchdog {
  fired = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number, private readonly onStall: () => void) {
    this.rearm();
  }

  rearm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onStall();
    }, this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** Splits the stream into complete lines and hands each message to its handler. */
class TailLines {
  terminal: RunStatus | undefined;
  remoteError: string | undefined;
  private pending = '';

  constructor(
    private readonly position: TailPosition,
    private readonly handlers: TailHandlers,
    private readonly onPosition: ((position: TailPosition) => void) | undefined,
  ) {}

  push(chunk: Buffer): void {
    this.pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (line.trim()) this.handle(line);
    }
  }

  private handle(line: string): void {
    const msg = parseObject(line);
    if (!msg) return;
    if ('log' in msg && typeof msg.log === 'string') {
      if (typeof msg.log_offset === 'number') this.position.logOffset = msg.log_offset;
      this.handlers.onLog?.(msg.log);
    } else if ('metric' in msg) {
      if (typeof msg.metrics_offset === 'number') this.position.metricsOffset = msg.metrics_offset;
      this.handlers.onMetric?.(metricFromWire(msg.metric));
    } else if ('status' in msg) {
      const status = statusFromWire(msg.status);
      if (isTerminal(status.state)) this.terminal = status;
      this.handlers.onStatus?.(status);
    } else if ('error' in msg) {
      this.remoteError = String(msg.error);
      return;
    }
    this.onPosition?.({ ...this.position });
  }
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
