import { describe, expect, it } from 'vitest';
import { expectClose } from '../test/helpers.js';
import {
  combineRewards,
  type RewardContext,
  type RewardSpec,
  scoreCompletions,
  whenReward,
} from './rewards.js';

const ctx: Omit<RewardContext, 'rewards'> = {
  promptIds: [],
  completionIds: [],
  groupSize: 2,
  step: 0,
};
const completions = ['a', 'bb', 'ccc', 'dddd'].map((text) => ({
  text,
  tokenIds: [...text].map((c) => c.charCodeAt(0)),
  truncated: false,
}));
const constant =
  (values: number[]): RewardSpec['fn'] =>
  async () =>
    values;

describe('scoreCompletions', () => {
  it('calls each function once with samples, completions and context, and keys results by name', async () => {
    const seen: unknown[] = [];
    const specs: RewardSpec<string>[] = [
      {
        name: 'len',
        fn: async (samples, comps, c) => {
          seen.push(samples, c.groupSize);
          return comps.map((x) => x.text.length);
        },
      },
    ];
    const { raw, info } = await scoreCompletions(specs, ['s0', 's0', 's1', 's1'], completions, ctx);
    expect(raw).toEqual({ len: [1, 2, 3, 4] });
    expect(info).toEqual({});
    expect(seen).toEqual([['s0', 's0', 's1', 's1'], 2]);
  });

  it('rejects wrong lengths, infinities and duplicate names', async () => {
    await expect(
      scoreCompletions([{ name: 'x', fn: constant([1]) }], [], completions, ctx),
    ).rejects.toThrow(/returned 1 values for 4/);
    await expect(
      scoreCompletions(
        [{ name: 'x', fn: constant([1, 2, Number.POSITIVE_INFINITY, 3]) }],
        [],
        completions,
        ctx,
      ),
    ).rejects.toThrow(/completion 2/);
    await expect(
      scoreCompletions(
        [
          { name: 'x', fn: constant([1, 2, 3, 4]) },
          { name: 'x', fn: constant([1, 2, 3, 4]) },
        ],
        [],
        completions,
        ctx,
      ),
    ).rejects.toThrow(/unique/);
  });
});

describe('combineRewards', () => {
  // outcome: 0 correct / -1 wrong; shaping in [0,1]
  const raw = { outcome: [0, -1, -1, -1], shaping: [0.5, 0.9, 0.2, 0.6] };

  it('sum_then_normalize: weighted sum, then group advantages', () => {
    const specs: RewardSpec[] = [
      { name: 'outcome', fn: constant([]) },
      { name: 'shaping', fn: constant([]), weight: 2 },
    ];
    const c = combineRewards(specs, raw, { groupSize: 2 });
    expectClose(c.total, [1, 0.8, -0.6, 0.2], 1e-12);
    const s1 = Math.sqrt(0.02); // std of [1, 0.8]
    const s2 = Math.sqrt(0.32); // std of [-0.6, 0.2]
    expectClose(
      c.advantages,
      [0.1 / (s1 + 1e-4), -0.1 / (s1 + 1e-4), -0.4 / (s2 + 1e-4), 0.4 / (s2 + 1e-4)],
      1e-9,
    );
    expectClose(c.contributions['shaping']!, [1, 1.8, 0.4, 1.2], 1e-12);
  });

  it('gate: shaping counts only for correct completions, so an all-wrong group has no spread', () => {
    const specs: RewardSpec[] = [
      { name: 'outcome', fn: constant([]) },
      { name: 'shaping', fn: constant([]), gate: whenReward('outcome', (r) => r === 0) },
    ];
    const c = combineRewards(specs, raw, { groupSize: 2 });
    expectClose(c.total, [0.5, -1, -1, -1], 1e-12);
    expectClose(c.advantages.slice(2), [0, 0], 1e-12);
    expect(c.isStdZero).toEqual([false, false, true, true]);
  });

  it('rewardWeights override spec weights; NaN counts as 0', () => {
    const specs: RewardSpec[] = [
      { name: 'a', fn: constant([]), weight: 5 },
      { name: 'b', fn: constant([]) },
    ];
    const c = combineRewards(
      specs,
      { a: [1, Number.NaN], b: [1, 1] },
      { groupSize: 2, rewardWeights: [1, 3] },
    );
    expectClose(c.total, [4, 3], 1e-12);
    expect(() =>
      combineRewards(specs, { a: [1, 1], b: [1, 1] }, { groupSize: 2, rewardWeights: [1] }),
    ).toThrow(/one weight per function/);
  });

  it('normalize_then_sum: each reward normalised per group, summed, then normalised over the batch', () => {
    const specs: RewardSpec[] = [
      { name: 'outcome', fn: constant([]) },
      { name: 'shaping', fn: constant([]) },
    ];
    const c = combineRewards(specs, raw, { groupSize: 2, aggregation: 'normalize_then_sum' });
    const z = (x: number, s: number): number => x / (s + 1e-4);
    const o = [z(0.5, Math.SQRT1_2), z(-0.5, Math.SQRT1_2), 0, 0]; // outcome groups [0,-1], [-1,-1]
    const sh = [
      z(-0.2, Math.sqrt(0.08)),
      z(0.2, Math.sqrt(0.08)),
      z(-0.2, Math.sqrt(0.08)),
      z(0.2, Math.sqrt(0.08)),
    ];
    const total = o.map((v, i) => v + sh[i]!);
    expectClose(c.total, total, 1e-9);
    const m = total.reduce((x, y) => x + y, 0) / 4;
    const sd = Math.sqrt(total.reduce((x, y) => x + (y - m) ** 2, 0) / 3);
    expectClose(
      c.advantages,
      total.map((t) => (t - m) / (sd + 1e-4)),
      1e-9,
    );
  });
});

describe('scoreCompletions: info and context', () => {
  it('passes earlier rewards to later functions and keeps info records by name', async () => {
    const seen: unknown[] = [];
    const out = await scoreCompletions(
      [
        { name: 'first', fn: constant([0, -1, 0, -1]) },
        {
          name: 'second',
          fn: async (_s, comps, c) => {
            seen.push(c.rewards['first']);
            return { values: comps.map(() => 1), info: comps.map((x) => ({ len: x.text.length })) };
          },
        },
      ],
      [],
      completions,
      ctx,
    );
    expect(seen).toEqual([[0, -1, 0, -1]]);
    expect(out.raw['second']).toEqual([1, 1, 1, 1]);
    expect(out.info).toEqual({ second: [{ len: 1 }, { len: 2 }, { len: 3 }, { len: 4 }] });
    expect(Object.keys(out.timesMs)).toEqual(['first', 'second']);
  });

  it('rejects an info list of the wrong length', async () => {
    await expect(
      scoreCompletions(
        [{ name: 'x', fn: async () => ({ values: [1, 2, 3, 4], info: [1] }) }],
        [],
        completions,
        ctx,
      ),
    ).rejects.toThrow(/returned 1 info records for 4/);
  });
});
