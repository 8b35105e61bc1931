// Maps training/launcher's Launcher onto the port the extension codes against.
import { createTransport, Gcloud, Launcher, listSshHosts, registerTpuVmTransport, runOnTpuVm, SshTransport, submitTpuRun, type TpuRunEvent } from '../../training/launcher';
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
  /** The Google Cloud CLI for TPU VMs: a path, or a Gcloud (tests pass fake-gcloud); default `gcloud` on PATH. */
  gcloud?: string | Gcloud;
}

export function createLauncher(settings: LauncherSettings): TrainingLauncher {
  // status, tail, cancel and fetch of a TPU run go through `gcloud compute tpus tpu-vm ssh/scp`.
  const gcloud = settings.gcloud instanceof Gcloud ? settings.gcloud : new Gcloud(settings.gcloud ? { binary: settings.gcloud } : {});
  registerTpuVmTransport(gcloud);
  const launcher = new Launcher({
    codeDir: settings.codeDir,
    ...(settings.remoteRoot ? { remoteRoot: settings.remoteRoot } : {}),
    transportFactory: (target) =>
      target.kind === 'ssh' && settings.sshConfigFile ? new SshTransport({ host: target.host, configFile: settings.sshConfigFile }) : createTransport(target),
  });
  const log = settings.log ?? (() => undefined);
  // TPU runs whose workflow this window is driving (one driver per run).
  const driving = new Set<string>();
  const describeEvent = (vm: string, event: TpuRunEvent) => (event.kind === 'phase' ? `TPU VM ${vm}: ${event.phase} started` : event.message);
  const drive = (name: string, id: string, done: Promise<{ deleted: boolean }>) => {
    driving.add(id);
    done.then(
      (r) => log(`${name}: TPU workflow ended (${r.deleted ? 'VM deleted' : 'VM kept'})`),
      (e) => log(`${name}: TPU workflow stopped: ${e instanceof Error ? e.message : String(e)}`),
    ).finally(() => driving.delete(id));
  };
  return {
    // ~/.ssh/config is small and local; reading it is the launcher's job.
    listHosts: async () => listSshHosts(settings.sshConfigFile ? { file: settings.sshConfigFile } : {}),
    submit: async (spec, target, { signal, onProgress }) => {
      if (target.kind !== 'tpu-vm') {
        return launcher.submit(target, spec, (state) => onProgress?.(state === 'uploading' ? 'uploading the dataset' : `${state}…`), { signal });
      }
      // The original workflow is a sequence of phases on the VM that the launcher starts one after
      // the other, then deletes the VM: that goes on after the run is in the tree.
      const { record, done } = await submitTpuRun({
        target, spec, codeDir: settings.codeDir, gcloud,
        ...(settings.remoteRoot ? { remoteRoot: settings.remoteRoot } : {}),
        ...(signal ? { signal } : {}),
        onEvent: (event) => {
          const line = describeEvent(target.name, event);
          onProgress?.(line);
          log(`${spec.name}: ${line}`);
        },
      });
      drive(spec.name, record.id, done);
      return record;
    },
    resumeTpuWorkflow: (record) => {
      if (record.target.kind !== 'tpu-vm' || driving.has(record.id)) return;
      const target = record.target;
      // Resuming skips init and upload (the spec is already on the VM) and any phase that ended.
      const done = runOnTpuVm({
        target, runId: record.id, spec: {}, codeDir: settings.codeDir, gcloud, resume: true,
        ...(settings.remoteRoot ? { remoteRoot: settings.remoteRoot } : {}),
        onEvent: (event) => log(`${record.name}: ${describeEvent(target.name, event)}`),
      });
      drive(record.name, record.id, done);
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
