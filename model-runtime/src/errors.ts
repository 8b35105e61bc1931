/**
 * Typed errors thrown by the runtime. Library code never exits the process;
 * callers (CLI, extension host) decide how to present these.
 */
export type Pix2StructErrorCode =
  | 'CHECKPOINT_INVALID'
  | 'CONFIG_INVALID'
  | 'IMAGE_INVALID'
  | 'INPUT_INVALID'
  | 'SESSION_FAILED'
  | 'ABORTED'
  | 'USAGE'
  | 'HUB'
  | 'PROVIDER_INSTALL';

export class Pix2StructError extends Error {
  constructor(
    readonly code: Pix2StructErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A checkpoint file is missing, truncated, malformed or disagrees with its config. */
export class CheckpointError extends Pix2StructError {
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
    options?: { cause?: unknown },
  ) {
    super('CHECKPOINT_INVALID', `${file}${tensor ? ` (tensor "${tensor}")` : ''}: ${message}`, options);
  }
}

/** A config file is missing, not JSON, or holds a value the runtime refuses; `key` names that value where there is one. */
export class ConfigError extends Pix2StructError {
  constructor(readonly file: string, message: string, readonly key?: string) {
    super('CONFIG_INVALID', `${file}: ${message}`);
  }
}

export class ImageError extends Pix2StructError {
  constructor(readonly source: string, message: string, options?: { cause?: unknown }) {
    super('IMAGE_INVALID', `${source}: ${message}`, options);
  }
}

/** A tensor handed to an ONNX session has the wrong name, dtype or shape. */
export class SessionInputError extends Pix2StructError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

export class SessionError extends Pix2StructError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SESSION_FAILED', message, options);
  }
}

export class AbortError extends Pix2StructError {
  constructor(message = 'generation was cancelled') {
    super('ABORTED', message);
  }
}

export class UsageError extends Pix2StructError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Why a Hugging Face Hub download or cache lookup failed; callers branch on it (for example to offer a sign-in). */
export type HubErrorReason =
  | 'unauthorized'
  | 'not-found'
  | 'unreachable'
  | 'offline-missing'
  | 'integrity'
  | 'interrupted'
  | 'bad-response';

/** A Hub download or cache lookup failed. Messages never contain the access token. */
export class HubError extends Pix2StructError {
  constructor(
    readonly reason: HubErrorReason,
    readonly repoId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('HUB', message, options);
  }
}

/** Why installing or activating execution-provider libraries failed; callers branch on it (for example to offer a retry). */
export type ProviderInstallFailure =
  | 'unsupported-platform'
  | 'unreachable'
  | 'not-found'
  | 'http'
  | 'bad-response'
  | 'interrupted'
  | 'integrity'
  | 'bad-package'
  | 'disk-full'
  | 'filesystem'
  | 'activation';

/** Installing or activating provider libraries failed; `reason` says how. Cancellation throws AbortError instead. */
export class ProviderInstallError extends Pix2StructError {
  constructor(
    readonly reason: ProviderInstallFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('PROVIDER_INSTALL', message, options);
  }
}
