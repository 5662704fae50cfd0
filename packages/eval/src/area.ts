// Areas that summarise curves: area under (AUC) and over (AOC) a curve, normalised by the x span
// so a curve with y in [0, 1] has an area in [0, 1]. Leaves out curve assembly (curves.ts).
import { EvaluationError } from './errors.js';

function check(x: readonly number[], y: readonly number[], name: string): void {
  if (x.length !== y.length || x.length === 0) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `${name}: x has ${x.length} points and y ${y.length}; expected the same non-zero count`,
    );
  }
  for (let i = 1; i < x.length; i++) {
    if (!((x[i] as number) >= (x[i - 1] as number))) {
      throw new EvaluationError(
        'BAD_ARGUMENT',
        `${name}: x must be sorted ascending (x[${i}] < x[${i - 1}])`,
      );
    }
  }
}

/**
 * Trapezoid area under `y(x)` divided by the x span `x[last] - x[0]` (the mean height of the
 * curve). When every x is equal (a single point), the plain mean of y.
 *
 * @example areaUnderCurve([0, 0.5, 1], [0, 1, 1]) // 0.75
 * @throws EvaluationError `BAD_ARGUMENT` for unequal lengths, no points or unsorted x
 */
export function areaUnderCurve(x: readonly number[], y: readonly number[]): number {
  check(x, y, 'areaUnderCurve');
  const span = (x[x.length - 1] as number) - (x[0] as number);
  if (span === 0) return y.reduce((s, v) => s + v, 0) / y.length;
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    area +=
      (((y[i] as number) + (y[i - 1] as number)) / 2) * ((x[i] as number) - (x[i - 1] as number));
  }
  return area / span;
}

/**
 * Area over a curve whose y lies in [0, 1]: `1 - areaUnderCurve(x, y)`. For Lanham et al.'s
 * "% same answer" curves: 0 when the answer never changes, larger when it depends on the CoT.
 *
 * @example areaOverCurve([0, 0.5, 1], [0, 1, 1]) // 0.25
 */
export function areaOverCurve(x: readonly number[], y: readonly number[]): number {
  return 1 - areaUnderCurve(x, y);
}
