import { describe, expect, it } from 'vitest';
import {
  aopc,
  binCount,
  deleteTop,
  ERASER_BINS,
  gridCount,
  keepTop,
  rankByRelevance,
} from './erasure.js';

describe('erasure bookkeeping', () => {
  it('ranks by relevance, ties in position order, NaN last', () => {
    expect(rankByRelevance([0.1, 0.9, 0.5])).toEqual([1, 2, 0]);
    expect(rankByRelevance([1, 1, 2])).toEqual([2, 0, 1]);
    expect(rankByRelevance([Number.NaN, 0])).toEqual([1, 0]);
  });
  it('bin and grid counts', () => {
    expect(ERASER_BINS.map((b) => binCount(b, 10))).toEqual([1, 1, 1, 2, 5]);
    expect(ERASER_BINS.map((b) => binCount(b, 200))).toEqual([2, 10, 20, 40, 100]);
    expect(binCount(0.5, 0)).toBe(0);
    expect(gridCount(0.3, 7)).toBe(2);
    expect(() => binCount(1.5, 3)).toThrow();
  });
  it('delete-top and keep-top are complements', () => {
    const order = [3, 0, 2, 1];
    expect(deleteTop(order, 1)).toEqual([3]);
    expect(keepTop(order, 1)).toEqual([0, 2, 1]);
  });
  it('AOPC is the mean probability drop', () => {
    expect(aopc(0.9, [0.5, 0.3])).toBeCloseTo(0.5, 12);
    expect(Number.isNaN(aopc(1, []))).toBe(true);
  });
});
