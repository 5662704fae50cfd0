import { describe, expect, it } from 'vitest';
import { accuracyMetrics, type ScoredCompletion } from './accuracy.js';

const c = (correct: boolean, over: Partial<ScoredCompletion> = {}): ScoredCompletion => ({
  correct,
  isStrict: true,
  hasAnswer: true,
  cotTokens: 10,
  truncated: false,
  ...over,
});

describe('accuracyMetrics', () => {
  it('computes pass@k, parse rates, lengths and truncation by hand', () => {
    const items = [
      [c(true), c(false), c(false), c(false, { isStrict: false, cotTokens: 20 })],
      [
        c(false, { hasAnswer: false, isStrict: false, truncated: true, cotTokens: 30 }),
        c(false),
        c(false),
        c(false),
      ],
    ];
    const m = accuracyMetrics(items, [1, 4]);
    expect(m.passAtK[1]).toBeCloseTo((0.25 + 0) / 2, 12);
    expect(m.passAtK[4]).toBeCloseTo((1 + 0) / 2, 12);
    expect(m.accuracy).toBeCloseTo(1 / 8, 12);
    expect(m.strictParseRate).toBeCloseTo(6 / 8, 12);
    expect(m.fallbackParseRate).toBeCloseTo(1 / 8, 12);
    expect(m.unparsedRate).toBeCloseTo(1 / 8, 12);
    expect(m.cotTokensMean).toBeCloseTo((6 * 10 + 20 + 30) / 8, 12);
    expect(m.cotTokensMedian).toBe(10);
    expect(m.cotTokensP90).toBeCloseTo(23, 12); // sorted [10 x6, 20, 30]: pos 6.3 -> 20 + 0.3*10
    expect(m.truncationRate).toBeCloseTo(1 / 8, 12);
  });
  it('rejects ragged sample counts and k > n', () => {
    expect(() => accuracyMetrics([[c(true)], [c(true), c(false)]])).toThrow(/same non-zero number/);
    expect(() => accuracyMetrics([[c(true), c(false)]], [4])).toThrow(/at least 4/);
  });
});
