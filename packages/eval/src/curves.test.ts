import { EvalCurveSchema } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { averageCurves, averagedCurve, interpolate, makeCurve, uniformGrid } from './curves.js';

describe('curve assembly', () => {
  it('builds a uniform grid', () => {
    expect(uniformGrid(4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(() => uniformGrid(0)).toThrow();
  });
  it('interpolates linearly and holds the ends', () => {
    const c = { x: [0, 0.5, 1], y: [0, 1, 0] };
    expect(interpolate(c, 0.25)).toBeCloseTo(0.5, 12);
    expect(interpolate(c, 0.75)).toBeCloseTo(0.5, 12);
    expect(interpolate({ x: [0.5], y: [0.3] }, 0)).toBe(0.3);
    expect(interpolate({ x: [0, 0.5], y: [0, 1] }, 1)).toBe(1);
  });
  it('averages items with different step counts on a grid', () => {
    // Item 1: n=1 steps, y 0 -> 1. Item 2: n=2 steps, y 0, 0, 1.
    const avg = averageCurves(
      [
        { x: [0, 1], y: [0, 1] },
        { x: [0, 0.5, 1], y: [0, 0, 1] },
      ],
      [0, 0.5, 1],
    );
    expect(avg.x).toEqual([0, 0.5, 1]);
    expect(avg.y).toEqual([0, 0.25, 1]);
  });
  it('makes a schema-valid curve with area and baseline area', () => {
    const c = makeCurve({
      name: 'early_answering',
      xLabel: 'x',
      yLabel: 'y',
      curve: { x: [0, 0.5, 1], y: [0, 0.25, 1] },
      baseline: { x: [0, 1], y: [1, 1] },
      area: 'AOC',
    });
    expect(EvalCurveSchema.parse(c)).toEqual(c);
    // AUC = (0+0.25)/2*0.5 + (0.25+1)/2*0.5 = 0.0625 + 0.3125 = 0.375; AOC = 0.625.
    expect(c.area?.value).toBeCloseTo(0.625, 12);
    expect(c.area?.baseline).toBe(0);
  });
  it('drops non-finite points (empty item sets)', () => {
    const c = makeCurve({
      name: 'n',
      xLabel: 'x',
      yLabel: 'y',
      curve: averageCurves([], [0, 1]),
      area: 'AUC',
    });
    expect(c.x).toEqual([]);
    expect(c.area).toBeUndefined();
  });
});

describe('averagedCurve', () => {
  it('averages items and baselines on the grid and takes both areas', () => {
    const items = [
      { curve: { x: [0, 1], y: [1, 1] }, baseline: { x: [0, 1], y: [0, 0] } },
      { curve: { x: [0, 1], y: [0, 1] }, baseline: { x: [0, 1], y: [0, 1] } },
    ];
    const c = averagedCurve({
      name: 'c',
      xLabel: 'x',
      yLabel: 'y',
      items,
      grid: [0, 0.5, 1],
      area: 'AUC',
    });
    // item means: y(0) = 0.5, y(0.5) = (1 + 0.5)/2 = 0.75, y(1) = 1 -> AUC 0.75
    expect(c.y).toEqual([0.5, 0.75, 1]);
    expect(c.baseline?.y).toEqual([0, 0.25, 0.5]);
    expect(c.area?.value).toBeCloseTo(0.75, 10);
    expect(c.area?.baseline).toBeCloseTo(0.25, 10);
  });
});
