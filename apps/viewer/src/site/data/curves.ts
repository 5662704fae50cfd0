// Curve extraction: metric series out of metrics.jsonl records, aligned on a shared step axis
// for overlaying runs, grouped into the overview's sections; and eval curves with baselines.
import type { EvalCurve, MetricsRecord } from '@atmanrl/runs';

/** One metric of one run: steps and values (`null` = not logged or not finite at that step). */
export interface MetricSeries {
  steps: number[];
  values: (number | null)[];
}

/** Every metric name present in any record, in first-seen order. */
export function metricNames(records: readonly MetricsRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.metrics)) seen.add(k);
  return [...seen];
}

/**
 * The series of `name`: one point per record that logs the metric (a later record of the same
 * step replaces an earlier one, as after a resume), sorted by step.
 */
export function metricSeries(records: readonly MetricsRecord[], name: string): MetricSeries {
  const byStep = new Map<number, number | null>();
  for (const r of records) {
    if (!(name in r.metrics)) continue;
    const v = r.metrics[name];
    byStep.set(r.step, v === undefined || v === null || !Number.isFinite(v) ? null : v);
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  return { steps, values: steps.map((s) => byStep.get(s) ?? null) };
}

/**
 * The mean of several runs' series at each step (an arm's mean over seeds): at every step any of
 * them logs, the mean of their finite values there (`null` when none is finite).
 */
export function meanSeries(series: readonly MetricSeries[]): MetricSeries {
  const sums = new Map<number, { sum: number; n: number }>();
  for (const s of series) {
    s.steps.forEach((step, i) => {
      const acc = sums.get(step) ?? { sum: 0, n: 0 };
      const v = s.values[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) {
        acc.sum += v;
        acc.n += 1;
      }
      sums.set(step, acc);
    });
  }
  const steps = [...sums.keys()].sort((a, b) => a - b);
  return {
    steps,
    values: steps.map((st) => {
      const acc = sums.get(st)!;
      return acc.n === 0 ? null : acc.sum / acc.n;
    }),
  };
}

/**
 * The band of several runs' series (an arm's seeds): at every step any of them logs, the smallest
 * and the largest finite value there (`null` when none is finite).
 */
export function rangeSeries(series: readonly MetricSeries[]): {
  steps: number[];
  lo: (number | null)[];
  hi: (number | null)[];
} {
  const at = new Map<number, number[]>();
  for (const s of series) {
    s.steps.forEach((step, i) => {
      const list = at.get(step) ?? [];
      const v = s.values[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) list.push(v);
      at.set(step, list);
    });
  }
  const steps = [...at.keys()].sort((a, b) => a - b);
  const lists = steps.map((st) => at.get(st)!);
  return {
    steps,
    lo: lists.map((l) => (l.length === 0 ? null : Math.min(...l))),
    hi: lists.map((l) => (l.length === 0 ? null : Math.max(...l))),
  };
}

/** Number of finite points of a series (what a chart draws). */
export function countPoints(values: readonly (number | null)[]): number {
  return values.filter((v) => v !== null && Number.isFinite(v)).length;
}

/**
 * Aligns several series on the union of their x values (uPlot's `AlignedData`): `[xs, ys1, ys2…]`
 * with `null` where a series has no point.
 */
export function alignSeries(
  series: readonly { x: readonly number[]; y: readonly (number | null)[] }[],
): [number[], ...(number | null)[][]] {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => {
      col[index.get(x)!] = s.y[i] ?? null;
    });
    return col;
  });
  return [xs, ...ys];
}

/** Overview sections, in display order; a metric goes to the first section whose test matches. */
export const METRIC_SECTIONS: readonly { title: string; test: (name: string) => boolean }[] = [
  {
    title: 'Rewards',
    test: (n) => n === 'reward' || n === 'reward_std' || n.startsWith('rewards/'),
  },
  { title: 'Accuracy', test: (n) => n.startsWith('accuracy') || n.includes('pass@') },
  {
    title: 'Optimisation',
    test: (n) => ['kl', 'loss', 'grad_norm', 'learning_rate', 'entropy'].includes(n),
  },
  { title: 'Completions', test: (n) => n.startsWith('completions/') },
  { title: 'Modes', test: (n) => n.startsWith('modes/') },
  { title: 'CoT length', test: (n) => n.startsWith('cot_tokens/') },
  { title: 'Clipping', test: (n) => n.startsWith('clip_ratio') },
  {
    // with the trainer's `--queue` bookkeeping: workers and slots connected, per-worker busy/idle
    title: 'Timing',
    test: (n) =>
      n.startsWith('time/') ||
      n.includes('time') ||
      n.includes('tokens_per') ||
      n.startsWith('queue/'),
  },
];

/** Groups metric names into {@link METRIC_SECTIONS} (unmatched names go to `Other`). */
export function groupMetricNames(names: readonly string[]): { title: string; names: string[] }[] {
  const sections = METRIC_SECTIONS.map((s) => ({ title: s.title, names: [] as string[] }));
  const other: string[] = [];
  for (const name of names) {
    const i = METRIC_SECTIONS.findIndex((s) => s.test(name));
    if (i < 0) other.push(name);
    else sections[i]!.names.push(name);
  }
  if (other.length > 0) sections.push({ title: 'Other', names: other });
  return sections.filter((s) => s.names.length > 0);
}

/** An eval curve ready to plot: aligned x with the curve and (optional) random baseline. */
export interface EvalPlotData {
  data: [number[], ...(number | null)[][]];
  hasBaseline: boolean;
  /** e.g. `AOC 0.342 (random 0.120)`, or `''` when the report gives no area. */
  areaLabel: string;
}

/** Shapes one {@link EvalCurve} for plotting. */
export function evalCurveData(curve: EvalCurve): EvalPlotData {
  const series = [{ x: curve.x, y: curve.y }];
  if (curve.baseline) series.push({ x: curve.baseline.x, y: curve.baseline.y });
  const area = curve.area;
  const areaLabel = area
    ? `${area.kind} ${area.value.toFixed(3)}${area.baseline === undefined ? '' : ` (random ${area.baseline.toFixed(3)})`}`
    : '';
  return { data: alignSeries(series), hasBaseline: curve.baseline !== undefined, areaLabel };
}

/** The last finite value of a metric, or `null`. */
export function lastValue(records: readonly MetricsRecord[], name: string): number | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const v = records[i]!.metrics[name];
    if (v !== undefined && v !== null && Number.isFinite(v)) return v;
  }
  return null;
}
