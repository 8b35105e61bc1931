// The Cloud TPU surface of the launcher, for index.ts to re-export in one line.
export { Gcloud, GcloudError, GcloudNotInstalledError, GcloudNotAuthenticatedError, GcloudQuotaError, GcloudCommandError, type GcloudOptions } from './gcloud';
export { TpuTransport, registerTpuVmTransport, type TpuVmRef, type TpuWorker } from './tpu-transport';
export { ensureTpuVm, describeTpuVm, deleteTpuVm, tpuCostWarning, hostsForAcceleratorType, checkTpuTarget, TpuVmNotReadyError, type TpuVmTarget, type TpuVmInfo } from './tpu-lifecycle';
export { submitTpuRun, type TpuSubmission, type TpuSubmitOptions } from './tpu-submit';
export { runOnTpuVm, tpuOptionsToWire, TPU_PHASES, type TpuPhase, type TpuRunEvent, type TpuRunOptions, type TpuRunResult, type TpuTrainingOptions } from './tpu-run';
