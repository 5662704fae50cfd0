// An arm's mean evaluation: the seeds' eval reports averaged (summary values, curves point by
// point) with the seeds' min–max of each curve, for the eval page's "Mean per arm".
import type { EvalCurve, EvalReport } from '@atmanrl/runs';

/** The min–max band of one curve over the seeds. */
export interface CurveBand {
  x: number[];
  lo: (number | null)[];
  hi: (number | null)[];
}

const finite = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v);
const mean = (xs: readonly number[]) =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
const sameX = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Point-by-point mean of curves on the same x (`null` where no seed has a finite value). */
function meanYs(ys: readonly (readonly (number | null)[])[], n: number): (number | null)[] {
  return Array.from({ length: n }, (_, i) => mean(ys.map((y) => y[i]).filter(finite)));
}

/**
 * The mean of several reports of one eval (same name): each summary key's mean over the reports
 * that have it, each curve's mean over the reports whose curve has the first report's x values
 * (others are left out of that curve), its baseline's mean, its area's mean, and its min–max band.
 */
export function meanReports(reports: readonly EvalReport[]): {
  report: EvalReport;
  bands: Map<string, CurveBand>;
} {
  const first = reports[0]!;
  const keys = [...new Set(reports.flatMap((r) => Object.keys(r.summary)))];
  const summary = Object.fromEntries(
    keys.map((k) => [k, mean(reports.map((r) => r.summary[k]).filter(finite))]),
  );
  const bands = new Map<string, CurveBand>();
  const curves: EvalCurve[] = first.curves.map((c0) => {
    const members = reports
      .map((r) => r.curves.find((c) => c.name === c0.name))
      .filter((c): c is EvalCurve => !!c && sameX(c.x, c0.x));
    const ys = members.map((c) => c.y);
    bands.set(c0.name, {
      x: [...c0.x],
      lo: c0.x.map((_, i) => {
        const v = ys.map((y) => y[i]).filter(finite);
        return v.length === 0 ? null : Math.min(...v);
      }),
      hi: c0.x.map((_, i) => {
        const v = ys.map((y) => y[i]).filter(finite);
        return v.length === 0 ? null : Math.max(...v);
      }),
    });
    const baselines = members
      .map((c) => c.baseline)
      .filter(
        (b): b is NonNullable<EvalCurve['baseline']> => !!b && sameX(b.x, c0.baseline?.x ?? []),
      );
    const areas = members
      .map((c) => c.area)
      .filter((a): a is NonNullable<EvalCurve['area']> => !!a);
    const out: EvalCurve = { ...c0, y: meanYs(ys, c0.x.length) as number[] };
    if (c0.baseline && baselines.length > 0)
      out.baseline = {
        ...c0.baseline,
        y: meanYs(
          baselines.map((b) => b.y),
          c0.baseline.x.length,
        ) as number[],
      };
    if (c0.area && areas.length > 0) {
      const value = mean(areas.map((a) => a.value).filter(finite));
      const base = mean(areas.map((a) => a.baseline).filter(finite));
      out.area = {
        ...c0.area,
        value: value ?? Number.NaN,
        ...(base === null ? {} : { baseline: base }),
      };
    }
    return out;
  });
  return { report: { ...first, summary, curves }, bands };
}
