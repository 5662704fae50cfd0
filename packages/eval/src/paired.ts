// Paired comparisons of two arms (issue 29): per-item differences on the same test items with
// their standard error, and the paired t-test across seeds with Student's t p-value computed
// exactly (closed-form finite series for integer degrees of freedom). Plain numbers only; which
// metric and which items is the caller's choice (e.g. per-item pass@1 from the stored samples).
import { EvaluationError } from './errors.js';
import { mean } from './stats.js';

/** Per-item differences `a_i - b_i` of two arms on the same items, with their summary. */
export interface PairedDifferences {
  /** Items compared. */
  n: number;
  /** Item ids in the order of `differences` (sorted). */
  ids: string[];
  /** `a_i - b_i` per item. */
  differences: number[];
  /** Mean difference. */
  meanDifference: number;
  /** Standard error of the mean difference: sd (n - 1) / sqrt(n); NaN below two items. */
  standardError: number;
}

/** Result of {@link pairedTTest}. */
export interface PairedTTest {
  /** Pairs (e.g. seeds). */
  n: number;
  /** Degrees of freedom n - 1. */
  df: number;
  /** Mean of `a_i - b_i`. */
  meanDifference: number;
  /** Sample standard deviation (n - 1) of the differences. */
  sdDifference: number;
  /** sd / sqrt(n). */
  standardError: number;
  /** mean / se (±Infinity when every difference is the same non-zero number, 0 when all are 0). */
  t: number;
  /** Two-sided p-value P(|T_df| ≥ |t|). */
  pValue: number;
}

function sdOf(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
}

/**
 * Per-item differences between arm `a` and arm `b` evaluated on the same items: both maps must
 * hold exactly the same item ids (e.g. the test problem id → per-item accuracy over its samples).
 * @throws EvaluationError `BAD_ARGUMENT` when the id sets differ (the message names some ids) or a
 *   value is not finite
 */
export function pairedItemDifferences(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
): PairedDifferences {
  const onlyA = [...a.keys()].filter((k) => !b.has(k));
  const onlyB = [...b.keys()].filter((k) => !a.has(k));
  if (onlyA.length > 0 || onlyB.length > 0) {
    const show = (x: string[]) => `${x.slice(0, 3).join(', ')}${x.length > 3 ? ', ...' : ''}`;
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `pairedItemDifferences: the arms were not evaluated on the same items (${onlyA.length} only in a${onlyA.length ? `: ${show(onlyA)}` : ''}; ${onlyB.length} only in b${onlyB.length ? `: ${show(onlyB)}` : ''}); evaluate both on the same test split and limit`,
    );
  }
  const ids = [...a.keys()].sort();
  const differences = ids.map((id) => {
    const x = a.get(id)!;
    const y = b.get(id)!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new EvaluationError(
        'BAD_ARGUMENT',
        `pairedItemDifferences: item ${id} has a non-finite value (a ${x}, b ${y})`,
      );
    }
    return x - y;
  });
  const n = differences.length;
  return {
    n,
    ids,
    differences,
    meanDifference: mean(differences),
    standardError: n < 2 ? Number.NaN : sdOf(differences) / Math.sqrt(n),
  };
}

/**
 * Two-sided p-value of Student's t with integer `df` degrees of freedom, `P(|T| ≥ |t|)`, computed
 * exactly by the finite series of Abramowitz & Stegun 26.7.3–4 with θ = atan(|t|/√df):
 * odd df: `A = (2/π)(θ + sinθ·Σ_{k=1}^{(df-1)/2} c_k cos^{2k-1}θ)`, c_1 = 1, c_{k+1} = c_k·2k/(2k+1);
 * even df: `A = sinθ·Σ_{k=0}^{df/2-1} d_k cos^{2k}θ`, d_0 = 1, d_{k+1} = d_k·(2k+1)/(2k+2);
 * p = 1 - A.
 * @example studentTTwoSidedP(1, 1) // 0.5;  studentTTwoSidedP(4.303, 2) ≈ 0.05
 * @throws EvaluationError `BAD_ARGUMENT` for a df that is not a positive integer or a NaN t
 */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `studentTTwoSidedP: df is ${df}, expected a positive integer (pairs - 1)`,
    );
  }
  if (Number.isNaN(t)) throw new EvaluationError('BAD_ARGUMENT', 'studentTTwoSidedP: t is NaN');
  const x = Math.abs(t);
  if (x === Number.POSITIVE_INFINITY) return 0;
  const theta = Math.atan(x / Math.sqrt(df));
  const s = Math.sin(theta);
  const c = Math.cos(theta);
  let a: number;
  if (df % 2 === 1) {
    let sum = 0;
    let coef = 1;
    let pow = c; // cos^{2k-1}
    for (let k = 1; k <= (df - 1) / 2; k++) {
      sum += coef * pow;
      coef *= (2 * k) / (2 * k + 1);
      pow *= c * c;
    }
    a = (2 / Math.PI) * (theta + s * sum);
  } else {
    let sum = 0;
    let coef = 1;
    let pow = 1; // cos^{2k}
    for (let k = 0; k <= df / 2 - 1; k++) {
      sum += coef * pow;
      coef *= (2 * k + 1) / (2 * k + 2);
      pow *= c * c;
    }
    a = s * sum;
  }
  return Math.min(1, Math.max(0, 1 - a));
}

/**
 * Paired t-test of `a` against `b` (e.g. one metric of two arms, one value per seed, same seeds in
 * the same order): t = mean(a - b) / (sd(a - b)/√n) with n - 1 degrees of freedom, two-sided p
 * exact ({@link studentTTwoSidedP}).
 * @example pairedTTest([3, 5, 4], [1, 2, 3]) // differences 2, 3, 1: t = 2/(1/√3) ≈ 3.464, df 2, p ≈ 0.0742
 * @throws EvaluationError `BAD_ARGUMENT` for lists of different lengths, fewer than two pairs or
 *   non-finite values
 */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTTest {
  if (a.length !== b.length) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `pairedTTest: a has ${a.length} values and b ${b.length}; pair them one to one (same seeds, same order)`,
    );
  }
  if (a.length < 2) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `pairedTTest: ${a.length} pair(s); a paired t-test needs at least two (e.g. two seeds)`,
    );
  }
  if (![...a, ...b].every(Number.isFinite)) {
    throw new EvaluationError('BAD_ARGUMENT', 'pairedTTest: every value must be a finite number');
  }
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const m = mean(d);
  const sd = sdOf(d);
  const se = sd / Math.sqrt(n);
  const t =
    se === 0 ? (m === 0 ? 0 : m > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY) : m / se;
  return {
    n,
    df: n - 1,
    meanDifference: m,
    sdDifference: sd,
    standardError: se,
    t,
    pValue: studentTTwoSidedP(t, n - 1),
  };
}
