import { describe, expect, it } from 'vitest';
import { ToyMetricError } from './errors.js';
import { mean } from './mean.js';

describe('mean', () => {
  it('matches a hand-computed value', () => {
    expect(mean([1, 2, 6])).toBe(3);
  });

  it('rejects an empty list with a typed error', () => {
    expect(() => mean([])).toThrow(ToyMetricError);
  });
});
