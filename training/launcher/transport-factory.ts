// Picks the RemoteTransport for a HostTarget. SSH is built in; the TPU VM transport registers
// itself (registerTransport('tpu-vm', …)) so this file does not depend on it.
import type { HostTarget } from './types';
import type { RemoteTransport } from './transport';
import { SshTransport } from './ssh-transport';
import { LauncherInputError } from './errors';

export type TransportFactory<K extends HostTarget['kind'] = HostTarget['kind']> = (
  target: Extract<HostTarget, { kind: K }>,
) => RemoteTransport;

const factories: { [K in HostTarget['kind']]?: TransportFactory<K> } = {
  ssh: (target) => new SshTransport({ host: target.host }),
};

/** Installs (or replaces) how targets of one kind are reached. */
export function registerTransport<K extends HostTarget['kind']>(kind: K, factory: TransportFactory<K>): void {
  (factories as Record<string, unknown>)[kind] = factory;
}

export function createTransport(target: HostTarget): RemoteTransport {
  const factory = factories[target.kind] as TransportFactory | undefined;
  if (!factory) throw new LauncherInputError(`No transport is registered for ${target.kind} targets.`);
  return factory(target);
}
