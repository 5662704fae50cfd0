import type { EvalReport } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { meanReports } from './eval-means.js';

const report = (s: number, ys: number[], base: number[], area: number): EvalReport =>
  ({
    version: 1,
    name: 'eval',
    createdAt: '',
    model: 'm',
    dataset: { name: 'd', split: 'test', seed: 0 },
    summary: { 'pass@1': s, n: 256, only: s === 0.9 ? 1 : null },
    curves: [
      {
        name: 'early_answering',
        xLabel: 'x',
        yLabel: 'y',
        x: [0, 0.5, 1],
        y: ys,
        baseline: { x: [0, 0.5, 1], y: base },
        area: { kind: 'AOC', value: area, baseline: 0.25 },
      },
    ],
  }) as unknown as EvalReport;

describe('meanReports', () => {
  it('averages summaries and curves point by point, with the min–max band (hand-computed)', () => {
    const { report: mean, bands } = meanReports([
      report(0.9, [1, 0.5, 0], [0, 0, 0], 0.6),
      report(0.8, [1, 0.7, 0.1], [0.2, 0, 0], 0.7),
      report(0.7, [1, 0.3, 0.2], [0.1, 0, 0], 0.8),
    ]);
    expect(mean.summary['pass@1']).toBeCloseTo(0.8, 12);
    expect(mean.summary.n).toBe(256);
    expect(mean.summary.only).toBe(1); // the mean of the reports that have a value
    const c = mean.curves[0]!;
    expect(c.y[0]).toBe(1);
    expect(c.y[1]).toBeCloseTo(0.5, 12);
    expect(c.y[2]).toBeCloseTo(0.1, 12);
    expect(c.baseline!.y[0]).toBeCloseTo(0.1, 12);
    expect(c.area!.value).toBeCloseTo(0.7, 12);
    expect(c.area!.baseline).toBe(0.25);
    expect(bands.get('early_answering')).toEqual({
      x: [0, 0.5, 1],
      lo: [1, 0.3, 0],
      hi: [1, 0.7, 0.2],
    });
  });
  it('leaves out of a curve the reports measured at other x', () => {
    const odd = report(0.5, [9, 9], [0, 0], 0.1);
    (odd.curves[0] as { x: number[] }).x = [0, 1];
    const { report: r } = meanReports([report(0.9, [1, 0.5, 0], [0, 0, 0], 0.6), odd]);
    expect(r.curves[0]!.y).toEqual([1, 0.5, 0]);
    expect(r.summary['pass@1']).toBeCloseTo(0.7, 12);
  });
});
