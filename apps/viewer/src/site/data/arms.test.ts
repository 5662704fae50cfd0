import { describe, expect, it } from 'vitest';
import {
  armDiff,
  defaultControl,
  focusMetrics,
  orderMetrics,
  PER_ITEM,
  pairedItemDiff,
  signed,
} from './arms.js';

describe('arms table arithmetic', () => {
  it('puts the measures of the experiment first, in the focus order', () => {
    const keys = [
      'pass@1',
      'pass@4',
      'cot_tokens/mean',
      'saliency/mask_h',
      'modes/other',
      'modes/terse',
      'modes/verbose',
    ];
    expect(orderMetrics(keys)).toEqual([
      'cot_tokens/mean',
      'modes/terse',
      'modes/verbose',
      'saliency/mask_h',
      'pass@1',
      'pass@4',
      'modes/other',
    ]);
    expect(focusMetrics(keys)).toEqual([
      'cot_tokens/mean',
      'modes/terse',
      'modes/verbose',
      'saliency/mask_h',
      'pass@1',
    ]);
    expect(orderMetrics(keys, ['pass@4', 'nope'])).toEqual([
      'pass@4',
      ...keys.filter((k) => k !== 'pass@4'),
    ]);
    expect(focusMetrics(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('defaults the control to the outcome-only arm', () => {
    expect(defaultControl(['B-reliance', 'A-outcome', 'C'])).toBe('A-outcome');
    expect(defaultControl(['x', 'outcome_only'])).toBe('outcome_only');
    expect(defaultControl(['x', 'y'])).toBe('x');
    expect(defaultControl([])).toBeNull();
  });

  it('differences against the control, paired per seed, with the 2-sd rule (hand-computed)', () => {
    // arm seeds 15.32, 15.71, 15.62 ; control seeds 16.09, 17.25, 17.10
    const arm = new Map([
      [0, 15.32],
      [1, 15.71],
      [2, 15.62],
    ]);
    const ctrl = new Map([
      [0, 16.09],
      [1, 17.25],
      [2, 17.1],
    ]);
    const d = armDiff(
      { mean: 15.55, std: 0.2, n: 3 },
      { mean: 16.81, std: 0.63, n: 3 },
      arm,
      ctrl,
    )!;
    expect(d.delta).toBeCloseTo(-1.26, 12);
    // per-seed: -0.77, -1.54, -1.48
    expect(d.range!.lo).toBeCloseTo(-1.54, 12);
    expect(d.range!.hi).toBeCloseTo(-0.77, 12);
    expect(d.range!.seeds).toBe(3);
    // sqrt((0.04 + 0.3969) / 2) = 0.467386...
    expect(d.sd).toBeCloseTo(Math.sqrt(0.4369 / 2), 12);
    expect(d.beyond).toBe(true); // 1.26 > 0.9348
    const small = armDiff(
      { mean: 0.632, std: 0.01, n: 3 },
      { mean: 0.637, std: 0.01, n: 3 },
      new Map(),
      new Map(),
    )!;
    expect(small.beyond).toBe(false);
    expect(small.range).toBeNull();
    // one seed: no sd, never a marker
    expect(
      armDiff({ mean: 1, std: 0, n: 1 }, { mean: 0, std: 0, n: 1 }, new Map(), new Map())!.beyond,
    ).toBe(false);
    expect(armDiff(undefined, { mean: 0, std: 0 }, new Map(), new Map())).toBeNull();
  });

  it('signs numbers with a real minus', () => {
    expect(signed(-1.256, 2)).toBe('−1.26');
    expect(signed(0.0123, 3)).toBe('+0.012');
    expect(signed(-0.0001, 3)).toBe('±0.000');
  });

  it('paired per-item SE over seeds (hand-computed)', () => {
    const m = (xs: number[]) => new Map(xs.map((v, i) => [`q${i}`, v]));
    // seed 0: d = [1, 0, 0, 0] (m 0.25, v 0.25, n 4); seed 1: d = [0, -1, 0, 1] (m 0, v 2/3, n 4);
    // an item only one side has (q9) is left out.
    const arm0 = m([1, 1, 0, 1]);
    (arm0 as Map<string, number>).set('q9', 1);
    const r = pairedItemDiff([
      { arm: arm0, control: m([0, 1, 0, 1]) },
      { arm: m([1, 0, 1, 1]), control: m([1, 1, 1, 0]) },
    ])!;
    expect(r.delta).toBeCloseTo(0.125, 12);
    expect(r.se).toBeCloseTo(Math.sqrt(0.25 / 4 + 2 / 3 / 4) / 2, 12);
    expect(r.items).toBe(8);
    expect(r.seeds).toBe(2);
    expect(pairedItemDiff([{ arm: m([1]), control: m([0]) }])).toBeNull();
    expect(PER_ITEM.accuracy_greedy!({ correct: true })).toBe(1);
    expect(PER_ITEM.accuracy_greedy!({})).toBeNull();
  });
});
