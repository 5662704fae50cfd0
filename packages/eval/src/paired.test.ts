import { describe, expect, it } from 'vitest';
import { pairedItemDifferences, pairedTTest, studentTTwoSidedP } from './paired.js';

/** Independent reference: 2·∫_{|t|}^{∞} of Student's t density (Simpson on u = atan(x/√ν)). */
function numericP(t: number, df: number): number {
  // log Γ via Lanczos (g = 7), for the density's normalising constant.
  const g = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531,
    -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6,
    1.5056327351493116e-7,
  ];
  const lgamma = (z: number): number => {
    const zz = z - 1;
    let x = g[0]!;
    for (let i = 1; i < 9; i++) x += g[i]! / (zz + i);
    const tt = zz + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(tt) - tt + Math.log(x);
  };
  const logC = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  const density = (x: number) => Math.exp(logC - ((df + 1) / 2) * Math.log1p((x * x) / df));
  // x = √ν tan u, dx = √ν sec²u du, u from atan(|t|/√ν) to π/2.
  const f = (u: number) => {
    const cu = Math.cos(u);
    if (cu < 1e-12) return 0;
    return density(Math.sqrt(df) * Math.tan(u)) * (Math.sqrt(df) / (cu * cu));
  };
  const lo = Math.atan(Math.abs(t) / Math.sqrt(df));
  const hi = Math.PI / 2;
  const n = 20_000;
  const h = (hi - lo) / n;
  let s = f(lo) + f(hi);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
  return 2 * ((s * h) / 3);
}

describe('studentTTwoSidedP', () => {
  it('matches the closed forms for df 1 and 2 (hand values)', () => {
    expect(studentTTwoSidedP(1, 1)).toBeCloseTo(0.5, 14); // 1 - (2/π)·atan(1)
    expect(studentTTwoSidedP(1, 2)).toBeCloseTo(1 - 1 / Math.sqrt(3), 14); // 1 - t/√(2+t²)
    expect(studentTTwoSidedP(0, 5)).toBeCloseTo(1, 14);
    expect(studentTTwoSidedP(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(studentTTwoSidedP(-2, 7)).toBe(studentTTwoSidedP(2, 7));
  });

  it('gives 0.05 at the two-sided 5 % critical values of the t table (3 decimals)', () => {
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [4, 2.776],
      [5, 2.571],
      [10, 2.228],
      [30, 2.042],
    ];
    for (const [df, t] of table)
      expect(Math.abs(studentTTwoSidedP(t, df) - 0.05)).toBeLessThan(2e-4);
    // 1 % column
    expect(Math.abs(studentTTwoSidedP(9.925, 2) - 0.01)).toBeLessThan(1e-4);
    expect(Math.abs(studentTTwoSidedP(4.032, 5) - 0.01)).toBeLessThan(1e-4);
  });

  it('agrees with numerical integration of the t density for odd and even df', () => {
    for (const df of [3, 4, 7, 12, 51])
      for (const t of [0.3, 1.1, 2.5, 4]) {
        expect(studentTTwoSidedP(t, df)).toBeCloseTo(numericP(t, df), 7);
      }
  });

  it('rejects a non-integer df', () => {
    expect(() => studentTTwoSidedP(1, 2.5)).toThrow(/df is 2.5/);
    expect(() => studentTTwoSidedP(1, 0)).toThrow(/positive integer/);
  });
});

describe('pairedTTest', () => {
  it('matches a hand computation', () => {
    // differences 2, 3, 1: mean 2, sd 1, se 1/√3, t = 2√3, df 2, p = 1 - t/√(2+t²) = 1 - √(12/14)
    const r = pairedTTest([3, 5, 4], [1, 2, 3]);
    expect(r.meanDifference).toBe(2);
    expect(r.sdDifference).toBeCloseTo(1, 14);
    expect(r.standardError).toBeCloseTo(1 / Math.sqrt(3), 14);
    expect(r.t).toBeCloseTo(2 * Math.sqrt(3), 12);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(1 - Math.sqrt(12 / 14), 12);
  });

  it("reproduces the issue's B-vs-A CoT test from modes-arms' per-seed values", () => {
    // CoT change of B against A in seeds 0/1/2: -8.9 %, -3.0 %, -10.3 % (issue 29): mean -7.4,
    // sd √15.01, t = -7.4/(√15.01/√3) ≈ -3.308, df 2, p = 1 - 3.308/√(2 + 3.308²) ≈ 0.080.
    const r = pairedTTest([-8.9, -3.0, -10.3], [0, 0, 0]);
    expect(r.t).toBeCloseTo(-7.4 / Math.sqrt(15.01 / 3), 10);
    expect(r.pValue).toBeCloseTo(1 - Math.abs(r.t) / Math.sqrt(2 + r.t * r.t), 12);
    expect(r.pValue).toBeGreaterThan(0.075);
    expect(r.pValue).toBeLessThan(0.085);
  });

  it('handles identical differences and rejects bad input', () => {
    expect(pairedTTest([2, 3], [1, 2]).pValue).toBe(0); // constant non-zero difference
    expect(pairedTTest([1, 2], [1, 2]).pValue).toBe(1);
    expect(() => pairedTTest([1, 2], [1])).toThrow(/pair them one to one/);
    expect(() => pairedTTest([1], [1])).toThrow(/at least two/);
    expect(() => pairedTTest([1, Number.NaN], [1, 2])).toThrow(/finite/);
  });
});

describe('pairedItemDifferences', () => {
  it('differences the same items and gives their standard error (hand values)', () => {
    const a = new Map([
      ['t/2', 1],
      ['t/1', 0.5],
      ['t/3', 0.75],
    ]);
    const b = new Map([
      ['t/1', 0.25],
      ['t/3', 0.75],
      ['t/2', 0.5],
    ]);
    const r = pairedItemDifferences(a, b);
    expect(r.ids).toEqual(['t/1', 't/2', 't/3']);
    expect(r.differences).toEqual([0.25, 0.5, 0]);
    expect(r.meanDifference).toBeCloseTo(0.25, 14);
    // sd of (0.25, 0.5, 0) = 0.25, se = 0.25/√3
    expect(r.standardError).toBeCloseTo(0.25 / Math.sqrt(3), 14);
  });

  it('refuses arms evaluated on different items, naming them', () => {
    const a = new Map([
      ['x', 1],
      ['y', 1],
    ]);
    const b = new Map([
      ['x', 1],
      ['z', 0],
    ]);
    expect(() => pairedItemDifferences(a, b)).toThrow(/1 only in a: y; 1 only in b: z/);
  });
});
