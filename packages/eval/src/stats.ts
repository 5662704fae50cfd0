// Summary statistics over plain numbers (CoT lengths, rates). NaN for empty input.

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Standard error of the mean: sample standard deviation (n - 1) over sqrt(n); NaN below two values.
 * @example standardError([0, 1, 0, 1]) // sqrt(1/3) / 2 ≈ 0.2887
 */
export function standardError(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  const variance = values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

/**
 * The q-quantile with linear interpolation between order statistics (numpy's default):
 * position `q·(n-1)` in the sorted list. NaN for an empty list.
 * @example quantile([1, 2, 3, 4], 0.5) // 2.5
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** Median (0.5-quantile). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}
