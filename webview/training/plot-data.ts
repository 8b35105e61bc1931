// Turns metric points into uPlot's aligned columns. Pure, so the panel's plotting logic is testable.
import type { RunPanelMetricPoint as MetricPoint } from '../../src/protocol/run-panel';

export interface SeriesSpec {
  split: 'train' | 'eval';
  name: string;
}

export interface AlignedSeries {
  series: SeriesSpec[];
  /** [steps, ...one column per series], null where a series has no value at that step. */
  columns: [number[], ...(number | null)[][]];
}

/**
 * Aligns the chosen metric names of both splits on the union of their steps. A later point for
 * the same split and step (a resumed run re-logging a step) replaces the earlier one.
 */
export function alignMetrics(points: readonly MetricPoint[], pick: (split: 'train' | 'eval', name: string) => boolean): AlignedSeries {
  const byKey = new Map<string, Map<number, number>>();
  const series: SeriesSpec[] = [];
  const steps = new Set<number>();
  for (const p of points) {
    for (const [name, value] of Object.entries(p.values)) {
      if (!pick(p.split, name) || !Number.isFinite(value)) continue;
      const key = `${p.split}/${name}`;
      let column = byKey.get(key);
      if (!column) {
        byKey.set(key, (column = new Map()));
        series.push({ split: p.split, name });
      }
      column.set(p.step, value);
      steps.add(p.step);
    }
  }
  // train before eval, then by name: stable colours across updates
  series.sort((a, b) => (a.split === b.split ? a.name.localeCompare(b.name) : a.split === 'train' ? -1 : 1));
  const xs = [...steps].sort((a, b) => a - b);
  const columns = series.map((s) => {
    const column = byKey.get(`${s.split}/${s.name}`)!;
    return xs.map((x) => column.get(x) ?? null);
  });
  return { series, columns: [xs, ...columns] };
}

/** Eval metric names (everything an eval line carries except its loss). */
export const isEvalMetric = (split: 'train' | 'eval', name: string) => split === 'eval' && name !== 'loss';
export const isLoss = (_split: 'train' | 'eval', name: string) => name === 'loss';
