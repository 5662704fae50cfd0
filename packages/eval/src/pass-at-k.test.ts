import { describe, expect, it } from 'vitest';
import { EvaluationError } from './errors.js';
import { meanPassAtK, passAtK } from './pass-at-k.js';

// Hand-computed: 1 - C(n-c,k)/C(n,k).
describe('passAtK', () => {
  it('matches hand-computed binomial ratios', () => {
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25, 12); // 1 - 3/4
    expect(passAtK(4, 2, 2)).toBeCloseTo(5 / 6, 12); // 1 - C(2,2)/C(4,2) = 1 - 1/6
    expect(passAtK(10, 3, 4)).toBeCloseTo(1 - 35 / 210, 12); // C(7,4)=35, C(10,4)=210
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passAtK(4, 1, 4)).toBe(1); // n - c < k
  });
  it('pass@1 equals the fraction correct', () => {
    expect(passAtK(7, 3, 1)).toBeCloseTo(3 / 7, 12);
  });
  it('is stable where factorials overflow', () => {
    // C(1000-1, 500)/C(1000, 500) = 500/1000 exactly.
    expect(passAtK(1000, 1, 500)).toBeCloseTo(0.5, 10);
  });
  it('averages over problems', () => {
    expect(
      meanPassAtK(
        [
          { n: 4, c: 1 },
          { n: 4, c: 0 },
        ],
        1,
      ),
    ).toBeCloseTo(0.125, 12);
    expect(Number.isNaN(meanPassAtK([], 1))).toBe(true);
  });
  it('rejects impossible inputs', () => {
    expect(() => passAtK(4, 5, 1)).toThrow(EvaluationError);
    expect(() => passAtK(4, 1, 5)).toThrow(/k <= n/);
    expect(() => passAtK(4, 1, 0)).toThrow(EvaluationError);
  });
});
