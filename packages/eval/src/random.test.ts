import { describe, expect, it } from 'vitest';
import { combineSeed, seededPermutation } from './random.js';

describe('seeded randomness', () => {
  it('permutations are reproducible and valid', () => {
    const a = seededPermutation(20, 7);
    expect(seededPermutation(20, 7)).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seededPermutation(20, 8)).not.toEqual(a);
  });
  it('is roughly uniform: each position holds each value ~1/n of the time', () => {
    const counts = new Array<number>(4).fill(0);
    for (let s = 0; s < 4000; s++) counts[seededPermutation(4, s)[0] as number]! += 1;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });
  it('combineSeed separates streams deterministically', () => {
    expect(combineSeed(1, 2)).toBe(combineSeed(1, 2));
    expect(combineSeed(1, 2)).not.toBe(combineSeed(2, 1));
    expect(combineSeed(1, 2, 3)).not.toBe(combineSeed(1, 2));
  });
});
