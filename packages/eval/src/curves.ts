// Curve assembly: per-item curves resampled onto a common x grid and averaged, plus the report
// curve record with its area and baseline. Leaves out how the points are measured.
import type { EvalCurve } from '@atmanrl/runs';
import { areaOverCurve, areaUnderCurve } from './area.js';
import { EvaluationError } from './errors.js';

/** One curve as points (x ascending). */
export interface CurvePoints {
  x: number[];
  y: number[];
}

/** `[0, 1/n, ..., 1]`: n + 1 evenly spaced points. */
export function uniformGrid(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `uniformGrid: n is ${n}, expected a positive integer`,
    );
  }
  return Array.from({ length: n + 1 }, (_, i) => i / n);
}

/**
 * Linear interpolation of a curve at `at`, held constant beyond its first and last x.
 * @example interpolate({ x: [0, 1], y: [0, 2] }, 0.25) // 0.5
 */
export function interpolate(curve: CurvePoints, at: number): number {
  const { x, y } = curve;
  if (x.length === 0 || x.length !== y.length) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `interpolate: a curve needs equal non-zero x/y counts`,
    );
  }
  if (at <= (x[0] as number)) return y[0] as number;
  for (let i = 1; i < x.length; i++) {
    const x1 = x[i] as number;
    if (at <= x1) {
      const x0 = x[i - 1] as number;
      const y0 = y[i - 1] as number;
      const y1 = y[i] as number;
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (at - x0)) / (x1 - x0);
    }
  }
  return y[y.length - 1] as number;
}

/**
 * Mean of several curves on a common grid (each resampled with {@link interpolate}).
 * Items with different step counts (x = k/n) become comparable this way.
 * @returns y = NaN everywhere when `curves` is empty
 */
export function averageCurves(
  curves: readonly CurvePoints[],
  grid: readonly number[],
): CurvePoints {
  const y = grid.map((g) =>
    curves.length === 0
      ? Number.NaN
      : curves.reduce((s, c) => s + interpolate(c, g), 0) / curves.length,
  );
  return { x: [...grid], y };
}

/** Input of {@link makeCurve}. */
export interface MakeCurveInput {
  name: string;
  xLabel: string;
  yLabel: string;
  curve: CurvePoints;
  baseline?: CurvePoints;
  /** Which area summarises the curve (omit for none). */
  area?: 'AOC' | 'AUC';
}

/**
 * A report curve (`EvalCurve` of @atmanrl/runs) with its area and the baseline's area.
 * Non-finite points (e.g. from an empty item set) are dropped before the area is taken.
 */
export function makeCurve(input: MakeCurveInput): EvalCurve {
  const clean = (c: CurvePoints): CurvePoints => {
    const keep = c.x.map((_, i) => Number.isFinite(c.x[i]) && Number.isFinite(c.y[i]));
    return { x: c.x.filter((_, i) => keep[i]), y: c.y.filter((_, i) => keep[i]) };
  };
  const curve = clean(input.curve);
  const baseline = input.baseline ? clean(input.baseline) : undefined;
  const out: EvalCurve = {
    name: input.name,
    xLabel: input.xLabel,
    yLabel: input.yLabel,
    x: curve.x,
    y: curve.y,
  };
  if (baseline) out.baseline = { x: baseline.x, y: baseline.y };
  if (input.area && curve.x.length > 0) {
    const f = input.area === 'AOC' ? areaOverCurve : areaUnderCurve;
    out.area = { kind: input.area, value: f(curve.x, curve.y) };
    if (baseline && baseline.x.length > 0) out.area.baseline = f(baseline.x, baseline.y);
  }
  return out;
}

/**
 * Averages per-item curves and their baselines on `grid` into one report curve (see
 * {@link makeCurve}); the form every probe's summary curve takes.
 */
export function averagedCurve(
  input: Omit<MakeCurveInput, 'curve' | 'baseline'> & {
    items: readonly { curve: CurvePoints; baseline: CurvePoints }[];
    grid: readonly number[];
  },
): EvalCurve {
  const { items, grid, ...rest } = input;
  return makeCurve({
    ...rest,
    curve: averageCurves(
      items.map((r) => r.curve),
      grid,
    ),
    baseline: averageCurves(
      items.map((r) => r.baseline),
      grid,
    ),
  });
}
