import type { DescribeResult, TaskId } from './protocol/describe-result';

/** What a continuation starts from: the stopped run's ids, fed to the decoder before it generates on. */
export interface ContinuePrefix {
  /** The run being continued: the panel extends its text in place. */
  runId: number;
  tokenIds: number[];
  /** Another budget's worth: the same budget the stopped run had. */
  maxNewTokens: number;
}

interface StoppedRun<T> {
  runId: number;
  target: T;
  modelSetting: string;
  prefix: ContinuePrefix;
}

/**
 * The last run its budget stopped, so the panel's Continue can go on from it. Only the latest
 * result can be continued: the panel offers Continue on the result it shows, and any later run
 * replaces that. No vscode imports.
 */
export class ContinuableRun<T extends { task: TaskId }> {
  private last: StoppedRun<T> | undefined;

  /** Called for every finished run; one that eos ended leaves nothing to continue. */
  finished(runId: number, target: T, modelSetting: string, result: DescribeResult): void {
    this.last =
      result.stoppedBy === 'budget' ? { runId, target, modelSetting, prefix: { runId, tokenIds: result.tokenIds, maxNewTokens: result.maxNewTokens } } : undefined;
  }

  /**
   * The run to start for Continue on `runId`, or why there is none. The same checkpoint must still
   * be set for the task: another model's continuation of these ids would be noise.
   */
  continuation(runId: number, currentSetting: (task: TaskId) => string, busy: boolean): { target: T; prefix: ContinuePrefix } | { error: string } {
    if (busy) return { error: 'a run is in progress: stop it or wait for it before continuing' };
    const last = this.last;
    if (!last || last.runId !== runId) return { error: 'that result can no longer be continued: run the task again' };
    if (currentSetting(last.target.task) !== last.modelSetting) return { error: 'the model setting changed since that result: run the task again' };
    return { target: last.target, prefix: last.prefix };
  }
}
