// Spearman rank correlation (ties get their average rank), for comparing saliency maps
// (method.md §5, AtMan agreement). Host-side numbers only.
import { SaliencyError } from './errors.js';

/**
 * 1-based ranks with ties averaged (fractional ranking).
 * @example
 * ```ts
 * import { averageRanks } from '@atmanrl/saliency';
 * console.log(averageRanks([0.3, 0.1, 0.3, 0.9])); // [2.5, 1, 2.5, 4]: ties share their mean rank
 * ```
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length).fill(0);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's ρ: the Pearson correlation of the average ranks of `a` and `b`.
 * Returns NaN when either input is constant (undefined correlation).
 * @throws SaliencyError `BAD_ARGUMENT` when the lengths differ or fewer than 2 values are given
 * @example
 * ```ts
 * import { spearman } from '@atmanrl/saliency';
 * console.log(spearman([0.1, 0.5, 0.9], [1, 2, 30])); // 1: the same order
 * console.log(spearman([0.1, 0.5, 0.9], [3, 2, 1])); // -1
 * ```
 */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) {
    throw new SaliencyError(
      'BAD_ARGUMENT',
      `spearman: got ${a.length} and ${b.length} values, expected two equal lengths >= 2`,
    );
  }
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - ma;
    const db = rb[i]! - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  if (va === 0 || vb === 0) return Number.NaN;
  return cov / Math.sqrt(va * vb);
}
