import { describe, expect, it } from 'vitest';
import { type PackRow, packByTokens, paddedTokens } from './token-budget.js';

const rows: PackRow[] = [
  { head: 2, tail: 3 }, // 5
  { head: 4, tail: 1 }, // 5
  { head: 1, tail: 9 }, // 10
  { head: 3, tail: 3 }, // 6
  { head: 2, tail: 2 }, // 4
];

describe('packByTokens', () => {
  it('hand-computed packing: longest first, each pass within the budget', () => {
    // order by head+tail desc: 2 (10), 3 (6), 0 (5), 1 (5), 4 (4)
    // [2]: 1·10; +3 -> 2·(3+9) = 24 > 20 -> new pass [3]: 6; +0 -> 2·(3+3) = 12; +1 -> 3·(4+3) = 21 > 20
    // -> new pass [1]: 5; +4 -> 2·(4+2) = 12
    expect(packByTokens(rows, 20)).toEqual([[2], [0, 3], [1, 4]]);
  });

  it('every row once, and only single rows over the budget', () => {
    for (const budget of [1, 4, 7, 12, 30, 1000]) {
      const passes = packByTokens(rows, budget);
      expect(passes.flat().sort()).toEqual([0, 1, 2, 3, 4]);
      for (const p of passes) {
        if (p.length > 1) expect(paddedTokens(p.map((i) => rows[i]!))).toBeLessThanOrEqual(budget);
      }
    }
    // a budget below every row: one pass per row
    expect(packByTokens(rows, 1)).toHaveLength(5);
    // a budget above the whole batch: one pass, in index order
    expect(packByTokens(rows, 1000)).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('paddedTokens is rows × (longest head + longest tail)', () => {
    expect(paddedTokens(rows)).toBe(5 * (4 + 9));
    expect(paddedTokens([])).toBe(0);
  });
});
