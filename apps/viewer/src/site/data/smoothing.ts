// Curve smoothing for the overview charts: TensorBoard's debiased exponential moving average.

/**
 * Debiased EMA of a series: `s_t = w·s_{t-1} + (1-w)·x_t`, divided by `1 - w^n` (n = finite
 * points seen so far) so the start is not pulled towards 0. `null`/non-finite points stay `null`
 * and do not update the average. `weight` in [0, 1): 0 returns the input.
 */
export function emaSmooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`weight must be in [0, 1), got ${weight}`);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    n += 1;
    return weight === 0 ? v : last / (1 - weight ** n);
  });
}
