// Maps training/launcher's Launcher onto the port the extension codes against.
import { createTransport, Launcher, listSshHosts, registerTpuVmTransport, SshTransport, submitTpuRun } from '../../training/launcher';
import type { TrainingLauncher } from './launcher-port';

export interface LauncherSettings {
  /** training/remote inside the installed extension (uploaded to each host). */
  codeDir: string;
  /** Folder under the host login's home for code and runs; undefined: the launcher's default. */
  remoteRoot?: string;
  /** An ssh_config to use instead of ~/.ssh/config, for host listing and connections alike. */
  sshConfigFile?: string;
  /** What happens after submit returns (TPU runs drive their phases and the VM's deletion from here). */
  log?: (line: string) => void;
}

export function createLauncher(settings: LauncherSettings): TrainingLauncher {
  // status, tail, cancel and fetch of a TPU run go through `gcloud compute tpus tpu-vm ssh/scp`.
  registerTpuVmTransport();
  const launcher = new Launcher({
    codeDir: settings.codeDir,
    ...(settings.remoteRoot ? { remoteRoot: settings.remoteRoot } : {}),
    transportFactory: (target) =>
      target.kind === 'ssh' && settings.sshConfigFile ? new SshTransport({ host: target.host, configFile: settings.sshConfigFile }) : createTransport(target),
  });
  return {
    // ~/.ssh/config is small and local; reading it is the launcher's job.
    listHosts: async () => listSshHosts(settings.sshConfigFile ? { file: settings.sshConfigFile } : {}),
    submit: async (spec, target, { signal, onProgress }) => {
      if (target.kind !== 'tpu-vm') {
        return launcher.submit(target, spec, (state) => onProgress?.(state === 'uploading' ? 'uploading the dataset' : `${state}…`), { signal });
      }
      // The original workflow is a sequence of phases on the VM that the launcher starts one after
      // the other, then deletes the VM: that goes on after the run is in the tree.
      const log = settings.log ?? (() => undefined);
      const { record, done } = await submitTpuRun({
        target, spec, codeDir: settings.codeDir,
        ...(settings.remoteRoot ? { remoteRoot: settings.remoteRoot } : {}),
        ...(signal ? { signal } : {}),
        onEvent: (event) => {
          const line = event.kind === 'phase' ? `TPU VM ${target.name}: ${event.phase} started` : event.message;
          onProgress?.(line);
          log(`${spec.name}: ${line}`);
        },
      });
      done.then(
        (r) => log(`${spec.name}: TPU workflow ended (${r.deleted ? 'VM deleted' : 'VM kept'})`),
        (e) => log(`${spec.name}: TPU workflow stopped: ${e instanceof Error ? e.message : String(e)}`),
      );
      return record;
    },
    status: (record, options) => launcher.status(record, options),
    tail: (record, handlers, { signal }) => launcher.tail(record, handlers, { signal }),
    cancel: (record) => launcher.cancel(record),
    listRuns: async (target, options) =>
      (await launcher.listRuns(target, options)).map(({ state, updatedAt, ...record }) => ({ record, state, updatedAt })),
    fetchCheckpoint: (record, checkpoint, localDir, options) => launcher.fetchCheckpoint(record, localDir, checkpoint, options),
    dispose: () => launcher.dispose(),
  };
}
