import { describe, expect, it } from 'vitest';
import { rankAgreement } from './atman-agreement.js';

describe('rankAgreement', () => {
  it('per-item Spearman with a seeded random baseline', () => {
    const r = rankAgreement(
      [[1, 2, 3, 4], [4, 3, 2, 1], [5]],
      [[10, 20, 30, 40], [10, 20, 30, 40], [1]],
      5,
    );
    expect(r.perItem[0]).toBeCloseTo(1, 12);
    expect(r.perItem[1]).toBeCloseTo(-1, 12);
    expect(Number.isNaN(r.perItem[2])).toBe(true);
    expect(r.counted).toBe(2);
    expect(r.mean).toBeCloseTo(0, 12);
    expect(rankAgreement([[1, 2, 3, 4]], [[1, 2, 3, 4]], 5).perItemRandom).toEqual([
      r.perItemRandom[0],
    ]);
  });
  it('the random baseline averages near 0', () => {
    const ref = Array.from({ length: 12 }, (_, i) => i);
    const many = rankAgreement(
      Array.from({ length: 200 }, () => ref),
      Array.from({ length: 200 }, () => ref),
      1,
    );
    expect(Math.abs(many.meanRandom)).toBeLessThan(0.1);
  });
  it('rejects length mismatches', () => {
    expect(() => rankAgreement([[1, 2]], [[1, 2, 3]])).toThrow(/item 0/);
  });
});
