// The unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on
// Code"): pass@k = 1 - C(n-c, k) / C(n, k), computed as a product so it never overflows.
import { EvaluationError } from './errors.js';

/**
 * Unbiased pass@k for one problem with `n` samples of which `c` are correct:
 * `1 - C(n-c, k) / C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i)` (numerically stable, no factorials).
 * Returns 1 when `n - c < k` (every k-subset contains a correct sample).
 *
 * @example passAtK(4, 1, 1) // 0.25
 * @throws EvaluationError `BAD_ARGUMENT` unless 0 <= c <= n, 1 <= k <= n, all integers
 */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || c < 0 || c > n || k < 1 || k > n) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `passAtK: got n=${n}, c=${c}, k=${k}; expected integers with 0 <= c <= n and 1 <= k <= n`,
    );
  }
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/**
 * Mean pass@k over problems, each given as its sample count and correct count.
 * @returns NaN for an empty list
 */
export function meanPassAtK(problems: readonly { n: number; c: number }[], k: number): number {
  if (problems.length === 0) return Number.NaN;
  let sum = 0;
  for (const p of problems) sum += passAtK(p.n, p.c, k);
  return sum / problems.length;
}
