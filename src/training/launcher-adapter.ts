// Maps training/launcher's Launcher onto the port the extension codes against.
import { createTransport, Launcher, listSshHosts, SshTransport } from '../../training/launcher';
import type { TrainingLauncher } from './launcher-port';

export interface LauncherSettings {
  /** training/remote inside the installed extension (uploaded to each host). */
  codeDir: string;
  /** Folder under the host login's home for code and runs; undefined: the launcher's default. */
  remoteRoot?: string;
  /** An ssh_config to use instead of ~/.ssh/config, for host listing and connections alike. */
  sshConfigFile?: string;
}

export function createLauncher(settings: LauncherSettings): TrainingLauncher {
  const launcher = new Launcher({
    codeDir: settings.codeDir,
    ...(settings.remoteRoot ? { remoteRoot: settings.remoteRoot } : {}),
    transportFactory: (target) =>
      target.kind === 'ssh' && settings.sshConfigFile ? new SshTransport({ host: target.host, configFile: settings.sshConfigFile }) : createTransport(target),
  });
  return {
    // ~/.ssh/config is small and local; reading it is the launcher's job.
    listHosts: async () => listSshHosts(settings.sshConfigFile ? { file: settings.sshConfigFile } : {}),
    submit: (spec, target, { signal, onProgress }) =>
      launcher.submit(target, spec, (state) => onProgress?.(state === 'uploading' ? 'uploading the dataset' : `${state}…`), { signal }),
    status: (record, options) => launcher.status(record, options),
    tail: (record, handlers, { signal }) => launcher.tail(record, handlers, { signal }),
    cancel: (record) => launcher.cancel(record),
    listRuns: async (target, options) =>
      (await launcher.listRuns(target, options)).map(({ state, updatedAt, ...record }) => ({ record, state, updatedAt })),
    fetchCheckpoint: (record, checkpoint, localDir, options) => launcher.fetchCheckpoint(record, localDir, checkpoint, options),
    dispose: () => launcher.dispose(),
  };
}
