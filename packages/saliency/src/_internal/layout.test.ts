import { describe, expect, it } from 'vitest';
import { buildLayout, fullIds } from './layout.js';

describe('buildLayout', () => {
  it('left-pads prompt[:-1], right-pads [prompt[-1], C, D, A], and points loss rows at the rows before A', () => {
    const l = buildLayout(
      [
        { promptIds: [1, 2, 3], cotIds: [4, 5], delimiterIds: [6], goldAnswerIds: [7, 8] },
        { promptIds: [9], cotIds: [10], delimiterIds: [], goldAnswerIds: [11] },
      ],
      20,
      0,
    );
    expect([l.promptLen, l.prefixLen, l.suffixLen, l.cotMax]).toEqual([3, 2, 6, 2]);
    expect(Array.from(l.prefixIds)).toEqual([1, 2, 0, 0]);
    expect(Array.from(l.suffixIds)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0]);
    expect(Array.from(fullIds(l))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 9, 10, 11, 0, 0, 0]);
    expect(Array.from(l.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(l.cotMask)).toEqual([1, 1, 1, 0]);
    // row 0: A = [7,8] at suffix 4,5 -> predicted by rows 3,4; row 1: A = [11] at suffix 2 -> row 1
    expect(Array.from(l.lossRows)).toEqual([3, 4, 1]);
    expect(Array.from(l.lossItem)).toEqual([0, 0, 1]);
    expect(Array.from(l.lossTargets)).toEqual([7, 8, 11]);
  });
});
