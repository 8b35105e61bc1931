/**
 * Typed messages between the extension host and a run panel (webview/training). One
 * discriminated union per direction, each with a validator: the host checks what the webview
 * sends and the webview checks what it receives. Every webview request carries a requestId and
 * gets exactly one reply, `{ ok: false, error }` included.
 *
 * The wire types (status, metric points, connection) are declared here rather than taken from
 * training/launcher or the run tree: the webview bundles this file and nothing else of the host,
 * and the host maps its own types onto these (src/training/run-panel.ts), so a launcher change
 * that breaks what the panel receives fails the type-check there.
 */

/** How the extension is connected to the run right now. */
export type RunPanelConnection = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'error';

/** What the panel shows of the run's status.json. */
export interface RunPanelStatus {
  /** The launcher's run state, shown as is (preparing, running, succeeded, …). */
  state: string;
  phase?: string;
  message?: string;
  updatedAt: string;
  step?: number;
  totalSteps?: number;
  checkpoints: string[];
  finalCheckpoint?: string;
  /** The run has ended and will not change again: the host decides, so the panel keeps no list of states. */
  terminal: boolean;
}

/** One line of the run's metrics.jsonl. */
export interface RunPanelMetricPoint {
  step: number;
  time: string;
  split: 'train' | 'eval';
  /** loss, learning_rate and the task's metrics, names verbatim. */
  values: Record<string, number>;
}

export interface RunPanelInfo {
  id: string;
  name: string;
  task: string;
  host: string;
  createdAt: string;
}

export type RunPanelAction = 'stop' | 'openLog' | 'useCheckpoint' | 'reconnect';
export const RUN_PANEL_ACTIONS: readonly RunPanelAction[] = ['stop', 'openLog', 'useCheckpoint', 'reconnect'];

export type ToRunPanel =
  | { type: 'init'; run: RunPanelInfo; status: RunPanelStatus | null; connection: RunPanelConnection; error: string | null; metrics: RunPanelMetricPoint[]; log: string }
  | { type: 'status'; status: RunPanelStatus | null; connection: RunPanelConnection; error: string | null }
  | { type: 'metrics'; points: RunPanelMetricPoint[] }
  | { type: 'log'; text: string }
  | { type: 'reply'; requestId: number; ok: true; message: string | null }
  | { type: 'reply'; requestId: number; ok: false; error: string };

export type FromRunPanel =
  | { type: 'ready' }
  | { type: 'request'; requestId: number; action: RunPanelAction }
  /** What the panel shows after a render: metric points plotted and the state in its header. */
  | { type: 'rendered'; points: number; state: string | null };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const CONNECTIONS: readonly RunPanelConnection[] = ['idle', 'connecting', 'live', 'reconnecting', 'ended', 'error'];

/** Validates a message from the run panel; anything malformed is dropped (null). */
export function parseFromRunPanel(raw: unknown): FromRunPanel | null {
  if (!isObject(raw)) return null;
  if (raw.type === 'ready') return { type: 'ready' };
  if (raw.type === 'request' && Number.isSafeInteger(raw.requestId) && RUN_PANEL_ACTIONS.includes(raw.action as RunPanelAction)) {
    return { type: 'request', requestId: raw.requestId as number, action: raw.action as RunPanelAction };
  }
  if (raw.type === 'rendered' && Number.isSafeInteger(raw.points) && (raw.points as number) >= 0 && (raw.state === null || (isString(raw.state) && raw.state.length < 40))) {
    return { type: 'rendered', points: raw.points as number, state: raw.state };
  }
  return null;
}

function validMetric(v: unknown): v is RunPanelMetricPoint {
  return (
    isObject(v) && isNumber(v.step) && isString(v.time) && (v.split === 'train' || v.split === 'eval') &&
    isObject(v.values) && Object.values(v.values).every(isNumber)
  );
}

function validStatus(v: unknown): v is RunPanelStatus | null {
  return v === null || (isObject(v) && isString(v.state) && isString(v.updatedAt) && Array.isArray(v.checkpoints) && typeof v.terminal === 'boolean');
}

const validConnection = (v: unknown): v is RunPanelConnection => CONNECTIONS.includes(v as RunPanelConnection);
const validError = (v: unknown) => v === null || isString(v);

/** Validates a message from the host (the webview's side of the same contract). */
export function parseToRunPanel(raw: unknown): ToRunPanel | null {
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'init': {
      const run = raw.run;
      if (!isObject(run) || ![run.id, run.name, run.task, run.host, run.createdAt].every(isString)) return null;
      if (!validStatus(raw.status) || !validConnection(raw.connection) || !validError(raw.error) || !isString(raw.log)) return null;
      if (!Array.isArray(raw.metrics) || !raw.metrics.every(validMetric)) return null;
      return raw as unknown as ToRunPanel;
    }
    case 'status':
      return validStatus(raw.status) && validConnection(raw.connection) && validError(raw.error) ? (raw as unknown as ToRunPanel) : null;
    case 'metrics':
      return Array.isArray(raw.points) && raw.points.every(validMetric) ? (raw as unknown as ToRunPanel) : null;
    case 'log':
      return isString(raw.text) ? { type: 'log', text: raw.text } : null;
    case 'reply':
      if (!Number.isSafeInteger(raw.requestId)) return null;
      if (raw.ok === true) return validError(raw.message) ? { type: 'reply', requestId: raw.requestId as number, ok: true, message: raw.message as string | null } : null;
      if (raw.ok === false) return isString(raw.error) ? { type: 'reply', requestId: raw.requestId as number, ok: false, error: raw.error } : null;
      return null;
    default:
      return null;
  }
}
