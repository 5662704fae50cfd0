import { describe, expect, it } from 'vitest';
import { contentSplit, contentUnit, fnv1a32, takeSplit } from './content-split.js';

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('contentSplit', () => {
  it('splits 10,000 distinct texts in the stated shares (within 4 standard errors)', () => {
    const n = 10_000;
    const counts = { train: 0, val: 0, test: 0 };
    for (let i = 0; i < n; i++) counts[contentSplit(`${i}+${i % 7}-3=?`)]++;
    for (const [k, p] of [
      ['test', 0.2],
      ['val', 0.1],
      ['train', 0.7],
    ] as const) {
      expect(Math.abs(counts[k] / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('depends on the text only, and honours other shares', () => {
    expect(contentSplit('3+4-2=?')).toBe(contentSplit('3+4-2=?'));
    const u = contentUnit('3+4-2=?');
    expect(contentSplit('3+4-2=?', { test: Math.min(1, u + 1e-9), val: 0 })).toBe('test');
    expect(contentSplit('3+4-2=?', { test: 0, val: 0 })).toBe('train');
    expect(() => contentSplit('x', { test: 0.8, val: 0.3 })).toThrow(/sum ≤ 1/);
  });
});

describe('takeSplit', () => {
  it('keeps the stream items of the split in stream order', () => {
    const make = (i: number) => `q${i % 50}`;
    const test = takeSplit('test', 30, make, (q) => q);
    expect(test).toHaveLength(30);
    for (const q of test) expect(contentSplit(q)).toBe('test');
    const all = Array.from({ length: 400 }, (_, i) => make(i)).filter(
      (q) => contentSplit(q) === 'test',
    );
    expect(test).toEqual(all.slice(0, 30));
  });

  it('fails with a clear message when the split holds too few of the questions', () => {
    expect(() =>
      takeSplit(
        'test',
        5,
        () => 'always-the-same',
        (q) => q,
        {
          shares: { test: 0, val: 0 },
          maxDraws: 100,
          where: 'gen',
        },
      ),
    ).toThrow(/gen: found only 0 of 5 'test' items in 100 draws/);
  });
});
