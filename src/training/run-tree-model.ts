// What the Training Runs tree shows, computed from the stored records and what is known of each
// run. Pure (no vscode): the tree provider only turns these into TreeItems.
import { isTerminal, type HostTarget, type RunRecord, type RunState, type RunStatus } from '../../training/launcher/types';

/** How the extension is connected to a run right now. */
export type Connection = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'error';

export interface RunView {
  record: RunRecord;
  status?: RunStatus;
  connection: Connection;
  error?: string;
}

export interface RunItemModel {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id. */
  icon: string;
  /** Space-separated flags the package.json menus test with `viewItem =~ /\blive\b/`. */
  contextValue: string;
}

export interface HostGroupModel {
  key: string;
  label: string;
  runs: RunItemModel[];
}

export function hostKey(target: HostTarget): string {
  return target.kind === 'ssh' ? `ssh:${target.host}` : `tpu:${target.zone}/${target.name}`;
}

export function hostLabel(target: HostTarget): string {
  return target.kind === 'ssh' ? target.host : `TPU VM ${target.name} (${target.zone})`;
}

const STATE_ICON: Record<RunState, string> = {
  preparing: 'loading~spin',
  uploading: 'cloud-upload',
  installing: 'loading~spin',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
};

function icon(view: RunView): string {
  if (view.connection === 'error') return 'debug-disconnect';
  if (view.connection === 'reconnecting') return 'debug-disconnect';
  return view.status ? STATE_ICON[view.status.state] : 'circle-outline';
}

/** "step 40/200 · running · started 21:15" */
function describe(view: RunView, formatTime: (iso: string) => string): string {
  const parts: string[] = [];
  const s = view.status;
  if (s?.step !== undefined) parts.push(s.totalSteps ? `${s.step}/${s.totalSteps}` : `step ${s.step}`);
  if (view.connection === 'reconnecting') parts.push('reconnecting…');
  else if (view.connection === 'error') parts.push('not connected');
  else parts.push(s ? s.state : 'unknown');
  parts.push(`started ${formatTime(view.record.createdAt)}`);
  return parts.join(' · ');
}

export function runItemModel(view: RunView, formatTime: (iso: string) => string): RunItemModel {
  const s = view.status;
  const live = s !== undefined && !isTerminal(s.state);
  const flags = ['run', s ? s.state : 'unknown'];
  if (live || !s) flags.push('live');
  if (s && (s.finalCheckpoint || s.checkpoints.length > 0)) flags.push('checkpoint');
  const tooltip = [
    `${view.record.name} (${view.record.task})`,
    `Run ${view.record.id} on ${hostLabel(view.record.target)}`,
    s ? `State: ${s.state}${s.phase ? ` (${s.phase})` : ''}${s.message ? ` — ${s.message}` : ''}` : 'State: not known yet',
    ...(view.error ? [`Connection: ${view.error}`] : []),
  ].join('\n');
  return {
    id: view.record.id,
    label: view.record.name,
    description: describe(view, formatTime),
    tooltip,
    icon: icon(view),
    contextValue: flags.join(' '),
  };
}

/** Groups runs by host (hosts sorted by label), newest run first within each host. */
export function groupRuns(views: readonly RunView[], formatTime: (iso: string) => string): HostGroupModel[] {
  const groups = new Map<string, HostGroupModel & { views: RunView[] }>();
  for (const view of views) {
    const key = hostKey(view.record.target);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, label: hostLabel(view.record.target), runs: [], views: [] }));
    g.views.push(view);
  }
  return [...groups.values()]
    .sort((a, b) => a.label.localeCompare(b.label))
    .map(({ key, label, views: vs }) => ({
      key,
      label,
      runs: [...vs].sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt)).map((v) => runItemModel(v, formatTime)),
    }));
}

/** "21:15" today, "Nov 23 21:15" otherwise, in local time. */
export function formatStarted(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (d.toDateString() === now.toDateString()) return hm;
  const month = d.toLocaleString('en-US', { month: 'short' });
  return `${month} ${d.getDate()} ${hm}`;
}
