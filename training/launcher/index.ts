// Public surface of the launcher (no vscode import): src/ uses only what is exported here.
export * from './types';
export { RUN_ID_PATTERN, isRunId, newRunId } from './run-id';
export { runLifecycle, type LifecycleOptions } from './run-lifecycle';
export type { RunDriver, RunStep, StepState, LauncherSideState } from './run-driver';
export { sleep, retryWithBackoff, type BackoffPolicy, type Attempt } from './backoff';
export type { RemoteTransport, ExecOptions, ExecResult } from './transport';
export { Launcher, type LauncherOptions, type ReconnectOptions, type RunSummary, type TailOptions, type SubmitStateHandler } from './launcher';
export { createTransport, registerTransport, type TransportFactory } from './transport-factory';
export { SshTransport, type SshTransportOptions } from './ssh-transport';
export { listSshHosts, type SshConfigOptions } from './ssh-config';
export { readCodeBundle, type CodeBundle } from './code-bundle';
export {
  LauncherError,
  HostUnreachableError,
  AuthFailedError,
  HostKeyUnknownError,
  HostKeyChangedError,
  RemoteCommandError,
  TransferError,
  UnsafeWordError,
  TailGaveUpError,
  LauncherInputError,
} from './errors';
export { ProtocolError, statusFromWire, metricFromWire, specToWire } from './wire';
export * from './tpu';
