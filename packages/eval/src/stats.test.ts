import { describe, expect, it } from 'vitest';
import { mean, median, quantile, standardError } from './stats.js';

describe('stats', () => {
  it('matches hand-computed values (numpy linear quantiles)', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    // p90 of 1..10: position 0.9*9 = 8.1 -> 9 + 0.1*(10-9) = 9.1
    expect(quantile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 0.9)).toBeCloseTo(9.1, 12);
    expect(Number.isNaN(mean([]))).toBe(true);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
    // [0,1,0,1]: sample variance 1/3, se = sqrt(1/3 / 4)
    expect(standardError([0, 1, 0, 1])).toBeCloseTo(Math.sqrt(1 / 12), 12);
    expect(Number.isNaN(standardError([1]))).toBe(true);
  });
});
