import { describe, expect, it } from 'vitest';
import { emaSmooth } from './smoothing.js';

describe('emaSmooth', () => {
  it('matches a hand-computed debiased EMA', () => {
    // w = 0.5: s1 = 0.5*1 = 0.5 -> /0.5 = 1; s2 = 0.25 + 0.5*3 = 1.75 -> /0.75 = 2.3333;
    // s3 = 0.875 + 0.5*5 = 3.375 -> /0.875 = 3.857142...
    const out = emaSmooth([1, 3, 5], 0.5);
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[1]).toBeCloseTo(7 / 3, 12);
    expect(out[2]).toBeCloseTo(3.375 / 0.875, 12);
  });

  it('returns the input at weight 0 and keeps a constant series constant', () => {
    expect(emaSmooth([1, -2, 4], 0)).toEqual([1, -2, 4]);
    for (const v of emaSmooth([2, 2, 2, 2], 0.9)) expect(v).toBeCloseTo(2, 12);
  });

  it('skips null and non-finite points without updating the average', () => {
    const out = emaSmooth([1, null, Number.NaN, 3], 0.5);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeNull();
    expect(out[3]).toBeCloseTo(7 / 3, 12); // same as [1, 3]
  });

  it('rejects weights outside [0, 1)', () => {
    expect(() => emaSmooth([1], 1)).toThrow(RangeError);
    expect(() => emaSmooth([1], -0.1)).toThrow(RangeError);
  });
});
