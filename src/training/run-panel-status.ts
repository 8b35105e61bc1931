import { isTerminal, type RunStatus } from '../../training/launcher/types';
import type { RunPanelStatus } from '../protocol/run-panel';

/**
 * The launcher's status as the panel's wire type. Field by field rather than a spread, so a
 * launcher change that renames or retypes one fails the type-check here instead of reaching the
 * webview; whether the run has ended is decided here, where the launcher's states are known.
 */
export function panelStatus(s: RunStatus | undefined): RunPanelStatus | null {
  if (!s) return null;
  return {
    state: s.state,
    phase: s.phase,
    message: s.message,
    updatedAt: s.updatedAt,
    step: s.step,
    totalSteps: s.totalSteps,
    checkpoints: s.checkpoints,
    finalCheckpoint: s.finalCheckpoint,
    terminal: isTerminal(s.state),
  };
}
