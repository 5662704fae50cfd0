import { describe, expect, it } from 'vitest';
import { expectClose } from '../test/helpers.js';
import { groupAdvantages } from './advantages.js';

// Two groups of G = 4: [1,0,0,1] (mean 0.5, unbiased std sqrt(1/3)) and [0,0,0,0] (std 0).
const rewards = [1, 0, 0, 1, 0, 0, 0, 0];

describe('groupAdvantages', () => {
  it("'group': (r - mean_G)/(std_G + 1e-4) with torch's unbiased std; zero-std group gives 0", () => {
    const r = groupAdvantages(rewards, { groupSize: 4 });
    const a = 0.5 / (Math.sqrt(1 / 3) + 1e-4);
    expectClose(r.advantages, [a, -a, -a, a, 0, 0, 0, 0], 1e-9);
    expect(r.isStdZero).toEqual([false, false, false, false, true, true, true, true]);
    expectClose(r.groupMean, [0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0], 1e-12);
  });

  it("'batch': group mean, batch std (PPO-Lite)", () => {
    const r = groupAdvantages(rewards, { groupSize: 4, scaleRewards: 'batch' });
    const std = Math.sqrt(1.5 / 7); // batch mean 0.25: 2·0.75² + 6·0.25² = 1.5, / (8-1)
    const a = 0.5 / (std + 1e-4);
    expectClose(r.advantages, [a, -a, -a, a, 0, 0, 0, 0], 1e-9);
    expect(r.isStdZero.every((z) => !z)).toBe(true);
  });

  it("'none': centred only (Dr. GRPO)", () => {
    const r = groupAdvantages([3, 1, -2, -2], { groupSize: 2, scaleRewards: 'none' });
    expectClose(r.advantages, [1, -1, 0, 0], 1e-12);
  });

  it('property: every group of advantages has mean 0, and order within a group does not matter', () => {
    let seed = 1;
    const rand = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let trial = 0; trial < 20; trial++) {
      const g = 2 + (trial % 5);
      const rs = Array.from({ length: g * 3 }, () => Math.round(rand() * 4) - 2);
      const adv = groupAdvantages(rs, { groupSize: g }).advantages;
      for (let s = 0; s < rs.length; s += g) {
        const m = adv.slice(s, s + g).reduce((x, y) => x + y, 0) / g;
        expect(Math.abs(m)).toBeLessThan(1e-9);
      }
      const reversed = groupAdvantages(rs.slice(0, g).reverse(), { groupSize: g }).advantages;
      expectClose(reversed, adv.slice(0, g).reverse(), 1e-12);
    }
  });

  it('rejects a batch that is not a multiple of G and non-finite rewards', () => {
    expect(() => groupAdvantages([1, 2, 3], { groupSize: 2 })).toThrow(/groups of G = 2/);
    expect(() => groupAdvantages([1, Number.NaN], { groupSize: 2 })).toThrow(/finite/);
  });
});
