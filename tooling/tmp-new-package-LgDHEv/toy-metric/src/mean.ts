import { ToyMetricError } from './errors.js';

/**
 * The arithmetic mean of `values` (a placeholder export: replace it with the package's own API).
 *
 * @param values finite numbers, at least one
 * @returns their mean
 * @throws {ToyMetricError} `INVALID_ARGUMENT` when `values` is empty
 */
export function mean(values: readonly number[]): number {
  if (values.length === 0) {
    throw new ToyMetricError(
      'INVALID_ARGUMENT',
      'mean: got an empty list; expected at least one value. Pass a non-empty array.',
    );
  }
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
