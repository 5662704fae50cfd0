import { describe, expect, it } from 'vitest';
import { RUN_COLORS } from '../components/colors.js';
import { ARM_BY_NAME, groupKey, meanSd, seriesStyles } from './groups.js';

describe('groups', () => {
  it('groups by name without the seed suffix', () => {
    expect(groupKey(ARM_BY_NAME, 'A-outcome-s0', undefined)).toBe('A-outcome');
    expect(groupKey(ARM_BY_NAME, 'D-reliance-gated-s2-eval', undefined)).toBe('D-reliance-gated');
    expect(groupKey(ARM_BY_NAME, 'x_seed12', undefined)).toBe('x');
    expect(groupKey(ARM_BY_NAME, 'reliance', undefined)).toBe('reliance');
    expect(groupKey({ kind: 'name', pattern: '^(\\w)-' }, 'B-reliance-s1', undefined)).toBe('B');
    expect(groupKey({ kind: 'name', pattern: '(' }, 'x', undefined)).toBeNull();
    expect(groupKey({ kind: 'none' }, 'x', undefined)).toBeNull();
  });
  it('groups by a (dotted) config key', () => {
    const cfg = { saliencyDirection: 'reliance', grpo: { beta: 0 } };
    expect(groupKey({ kind: 'config', key: 'saliencyDirection' }, 'n', cfg)).toBe(
      'saliencyDirection=reliance',
    );
    expect(groupKey({ kind: 'config', key: 'grpo.beta' }, 'n', cfg)).toBe('grpo.beta=0');
    expect(groupKey({ kind: 'config', key: 'missing' }, 'n', cfg)).toBeNull();
  });
  it('computes mean and sample sd (hand-computed)', () => {
    // values 1, 2, 4: mean 7/3, sd sqrt(((4/3)^2 + (1/3)^2 + (5/3)^2) / 2) = sqrt(7/3)
    const s = meanSd([1, 2, 4, null, Number.NaN])!;
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(7 / 3, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(7 / 3), 12);
    expect(meanSd([5])).toEqual({ mean: 5, sd: 0, n: 1 });
    expect(meanSd([])).toBeNull();
  });
  it('colours by group with a dash per member, and never repeats a style for 12 runs', () => {
    const s = seriesStyles(['A', 'A', 'B', 'A', 'B']);
    expect(s.map((x) => x.color)).toEqual([
      RUN_COLORS[0],
      RUN_COLORS[0],
      RUN_COLORS[1],
      RUN_COLORS[0],
      RUN_COLORS[1],
    ]);
    expect(s[0]!.dash).toBeUndefined();
    expect(s[1]!.dash).toEqual([6, 3]);
    expect(s[2]!.dash).toBeUndefined();
    // a run and its evaluation (same member) share the dash
    const m = seriesStyles(['A', 'A', 'A'], ['A-s0', 'A-s0', 'A-s1']);
    expect(m.map((x) => x.dash)).toEqual([undefined, undefined, [6, 3]]);
    const twelve = seriesStyles(new Array(12).fill(null));
    const keys = twelve.map((x) => `${x.color}|${JSON.stringify(x.dash)}`);
    expect(new Set(keys).size).toBe(12);
  });
});
