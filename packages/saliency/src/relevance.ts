// Host-side maps from fitted mask parameters θ to the mask statistic H and per-token relevance
// (method.md §2, steps 6 and "per-token saliency"). No tensors: these run on values read back once.

/**
 * `H = mean_j min(θ_j, 0)`. For an empty CoT (no parameters) H = `c`: nothing could be
 * re-enabled, so the `'reliance'` reward is 0 and the `'paper-literal'` reward is 1.
 * @param theta fitted θ of one item, one value per CoT token
 * @param c the initialisation (default -0.4), returned for an empty θ
 * @example
 * ```ts
 * import { maskStatistic } from '@atmanrl/saliency';
 * console.log(maskStatistic([-0.4, 0.3, -0.1])); // mean(min(θ, 0)) = (−0.4 + 0 − 0.1) / 3 ≈ −0.167
 * ```
 */
export function maskStatistic(theta: readonly number[], c = -0.4): number {
  if (theta.length === 0) return c;
  let sum = 0;
  for (const t of theta) sum += Math.min(t, 0);
  return sum / theta.length;
}

/**
 * Per-token relevance `(min(θ_j, 0) - c) / |c|`: 0 untouched, 1 fully re-enabled, negative when
 * the fit pushed the token further down (re-enabling it would hurt the gold answer).
 * @param theta fitted θ of one item
 * @param c the initialisation (default -0.4), non-zero
 * @example
 * ```ts
 * import { relevanceFromTheta } from '@atmanrl/saliency';
 * console.log(relevanceFromTheta([-0.4, 0.3, -0.1, -0.6])); // [0, 1, 0.75, -0.5]: 1 = fully re-enabled
 * ```
 */
export function relevanceFromTheta(theta: readonly number[], c = -0.4): number[] {
  const scale = Math.abs(c);
  return theta.map((t) => (Math.min(t, 0) - c) / scale);
}
