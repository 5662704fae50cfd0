// Pure bookkeeping of the ERASER / deletion / insertion measurements: which CoT tokens are
// removed for each budget, given a ranking. Leaves out the model (saliency-quality.ts).
import { EvaluationError } from './errors.js';

/** ERASER's token budgets (fractions of the CoT): 1, 5, 10, 20, 50 %. */
export const ERASER_BINS: readonly number[] = [0.01, 0.05, 0.1, 0.2, 0.5];

/**
 * Token positions ordered from most to least relevant (ties keep position order).
 * @example rankByRelevance([0.1, 0.9, 0.5]) // [1, 2, 0]
 */
export function rankByRelevance(relevance: readonly number[]): number[] {
  return relevance
    .map((r, i) => [Number.isNaN(r) ? Number.NEGATIVE_INFINITY : r, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .map(([, i]) => i);
}

/** Tokens in an ERASER bin: `ceil(fraction · n)`, at least 1 for a non-empty CoT. */
export function binCount(fraction: number, n: number): number {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new EvaluationError('BAD_ARGUMENT', `binCount: fraction ${fraction} is outside [0, 1]`);
  }
  if (n === 0 || fraction === 0) return 0;
  return Math.max(1, Math.min(n, Math.ceil(fraction * n - 1e-9)));
}

/** Tokens at a curve grid point: `round(fraction · n)`. */
export function gridCount(fraction: number, n: number): number {
  return Math.min(n, Math.max(0, Math.round(fraction * n)));
}

/** Positions removed when deleting the top `count` of `order`. */
export function deleteTop(order: readonly number[], count: number): number[] {
  return order.slice(0, count);
}

/** Positions removed when keeping only the top `count` of `order`. */
export function keepTop(order: readonly number[], count: number): number[] {
  return order.slice(count);
}

/**
 * ERASER AOPC from probabilities: `mean_b (pFull - p_b)` over the bins.
 * @example aopc(0.9, [0.5, 0.3]) // 0.5
 */
export function aopc(pFull: number, pErased: readonly number[]): number {
  if (pErased.length === 0) return Number.NaN;
  return pErased.reduce((s, p) => s + (pFull - p), 0) / pErased.length;
}
