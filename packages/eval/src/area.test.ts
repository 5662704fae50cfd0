import { describe, expect, it } from 'vitest';
import { areaOverCurve, areaUnderCurve } from './area.js';
import { EvaluationError } from './errors.js';

describe('areaUnderCurve / areaOverCurve', () => {
  it('integrates hand-computed curves (trapezoid, normalised by the x span)', () => {
    expect(areaUnderCurve([0, 0.5, 1], [0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(areaOverCurve([0, 0.5, 1], [0, 1, 1])).toBeCloseTo(0.25, 12);
    // Uneven spacing: [0,0.2] mean 0.5 (area 0.1) + [0.2,1] mean 1 (area 0.8) = 0.9.
    expect(areaUnderCurve([0, 0.2, 1], [0, 1, 1])).toBeCloseTo(0.9, 12);
    // Span 2: area 2*0.5 = 1, normalised 0.5.
    expect(areaUnderCurve([1, 3], [0, 1])).toBeCloseTo(0.5, 12);
  });
  it('a flat curve at 1 has AOC 0 (answer never changes)', () => {
    expect(areaOverCurve([0, 1 / 3, 2 / 3, 1], [1, 1, 1, 1])).toBe(0);
  });
  it('uses the mean of y for a single x', () => {
    expect(areaUnderCurve([0, 0], [0.2, 0.6])).toBeCloseTo(0.4, 12);
    expect(areaOverCurve([0], [0.25])).toBeCloseTo(0.75, 12);
  });
  it('rejects unsorted or mismatched input', () => {
    expect(() => areaUnderCurve([1, 0], [0, 0])).toThrow(EvaluationError);
    expect(() => areaUnderCurve([0, 1], [0])).toThrow(/same non-zero count/);
    expect(() => areaUnderCurve([], [])).toThrow(EvaluationError);
  });
});
