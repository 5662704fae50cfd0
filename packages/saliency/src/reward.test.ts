import { describe, expect, it } from 'vitest';
import { SaliencyError } from './errors.js';
import { maskStatistic, relevanceFromTheta } from './relevance.js';
import { saliencyReward } from './reward.js';

describe('saliencyReward', () => {
  it("'reliance' is 1 - H/c (default): 0 when nothing re-enabled, 1 when all", () => {
    expect(saliencyReward(-0.4)).toBeCloseTo(0, 12);
    expect(saliencyReward(0)).toBe(1);
    expect(saliencyReward(-0.1)).toBeCloseTo(0.75, 12);
    expect(saliencyReward(-0.3, { c: -0.6 })).toBeCloseTo(0.5, 12);
  });
  it("'paper-literal' is H/c, the complement", () => {
    for (const h of [-0.4, -0.25, 0, -0.5]) {
      const lit = saliencyReward(h, { direction: 'paper-literal' });
      expect(lit).toBeCloseTo(h / -0.4, 12);
      expect(lit + saliencyReward(h, { direction: 'reliance' })).toBeCloseTo(1, 12);
    }
  });
  it('is monotone: re-enabling more CoT raises reliance', () => {
    expect(saliencyReward(-0.2)).toBeGreaterThan(saliencyReward(-0.3));
    expect(saliencyReward(-0.2, { direction: 'paper-literal' })).toBeLessThan(
      saliencyReward(-0.3, { direction: 'paper-literal' }),
    );
  });
  it('rejects a non-negative c, an unknown direction and a non-finite H', () => {
    expect(() => saliencyReward(-0.1, { c: 0 })).toThrow(SaliencyError);
    expect(() => saliencyReward(-0.1, { direction: 'up' as 'reliance' })).toThrow(/direction/);
    expect(() => saliencyReward(Number.NaN)).toThrow(/H is NaN/);
  });
});

describe('maskStatistic / relevanceFromTheta', () => {
  it('H = mean min(θ,0); relevance = (min(θ,0) - c)/|c|', () => {
    const theta = [-0.4, 0.2, -0.1, -0.8];
    expect(maskStatistic(theta)).toBeCloseTo((-0.4 + 0 - 0.1 - 0.8) / 4, 12);
    const r = relevanceFromTheta(theta);
    [0, 1, 0.75, -1].forEach((x, i) => {
      expect(r[i]).toBeCloseTo(x, 12);
    });
  });
  it('an empty CoT has H = c (reliance reward 0)', () => {
    expect(maskStatistic([], -0.4)).toBe(-0.4);
    expect(saliencyReward(maskStatistic([]))).toBe(0);
    expect(relevanceFromTheta([])).toEqual([]);
  });
});
