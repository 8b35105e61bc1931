// Maps training/launcher's Launcher onto the port the extension codes against.
import { Launcher, listSshHosts, type LauncherOptions } from '../../training/launcher';
import type { TrainingLauncher } from './launcher-port';

export function createLauncher(options: LauncherOptions): TrainingLauncher {
  const launcher = new Launcher(options);
  return {
    // ~/.ssh/config is small and local; reading it is the launcher's job.
    listHosts: async () => listSshHosts(),
    submit: (spec, target, { signal, onProgress }) =>
      launcher.submit(target, spec, (state) => onProgress?.(state === 'uploading' ? 'uploading the dataset and code' : `${state}…`), { signal }),
    status: (record, options) => launcher.status(record, options),
    tail: (record, handlers, { signal }) => launcher.tail(record, handlers, { signal }),
    cancel: (record) => launcher.cancel(record),
    listRuns: async (target, options) =>
      (await launcher.listRuns(target, options)).map(({ state, updatedAt, ...record }) => ({ record, state, updatedAt })),
    fetchCheckpoint: (record, checkpoint, localDir, options) => launcher.fetchCheckpoint(record, localDir, checkpoint, options),
    dispose: () => launcher.dispose(),
  };
}
