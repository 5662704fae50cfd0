import { describe, expect, it } from 'vitest';
import { averageRanks, spearman } from './spearman.js';

describe('spearman', () => {
  it('average ranks share ties', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
  it('matches hand-computed values', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a = [1,2,3,4,5], b = [2,1,4,3,5]: 1 - 6·Σd²/(n(n²-1)) = 1 - 6·4/120 = 0.8
    expect(spearman([1, 2, 3, 4, 5], [0.2, 0.1, 0.4, 0.3, 0.5])).toBeCloseTo(0.8, 12);
    // ties: ranks [1,2.5,2.5,4] vs [1,3,2,4] -> cov 4.5 / sqrt(4.5 · 5)
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
  });
  it('is NaN for a constant input and rejects bad lengths', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1], [1])).toThrow(/equal lengths/);
  });
});
