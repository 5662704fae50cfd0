import type { EvalCurve, MetricsRecord } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import {
  alignSeries,
  countPoints,
  evalCurveData,
  groupMetricNames,
  lastValue,
  meanSeries,
  metricNames,
  metricSeries,
} from './curves.js';

const rec = (step: number, metrics: Record<string, number | null>): MetricsRecord => ({
  version: 1,
  step,
  time: '2026-01-01T00:00:00Z',
  metrics,
});

describe('curve extraction', () => {
  const records = [
    rec(1, { reward: 0.1, kl: 0.01 }),
    rec(2, { reward: null, kl: 0.02, accuracy: 0.5 }),
    rec(3, { reward: 0.3, kl: 0.03 }),
    rec(2, { reward: 0.2, kl: 0.025, accuracy: 0.6 }), // re-logged after a resume
  ];

  it('lists metric names in first-seen order', () => {
    expect(metricNames(records)).toEqual(['reward', 'kl', 'accuracy']);
  });

  it('extracts one point per step, later records replacing earlier ones', () => {
    expect(metricSeries(records, 'reward')).toEqual({ steps: [1, 2, 3], values: [0.1, 0.2, 0.3] });
    expect(metricSeries(records, 'accuracy')).toEqual({ steps: [2], values: [0.6] });
    expect(countPoints(metricSeries(records.slice(0, 3), 'reward').values)).toBe(2);
  });

  it('aligns runs on the union of steps with nulls for gaps', () => {
    expect(
      alignSeries([
        { x: [1, 3], y: [10, 30] },
        { x: [2, 3], y: [20, null] },
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, null, 30],
      [null, 20, null],
    ]);
  });

  it('groups TRL metric names into sections', () => {
    const sections = groupMetricNames([
      'reward',
      'rewards/saliency/mean',
      'accuracy',
      'kl',
      'grad_norm',
      'completions/mean_length',
      'clip_ratio/region_mean',
      'step_time',
      'queue/workers',
      'queue/slots',
      'mystery',
    ]);
    expect(sections.map((s) => [s.title, s.names])).toEqual([
      ['Rewards', ['reward', 'rewards/saliency/mean']],
      ['Accuracy', ['accuracy']],
      ['Optimisation', ['kl', 'grad_norm']],
      ['Completions', ['completions/mean_length']],
      ['Clipping', ['clip_ratio/region_mean']],
      ['Timing', ['step_time', 'queue/workers', 'queue/slots']],
      ['Other', ['mystery']],
    ]);
  });

  it('shapes an eval curve with its baseline and area label', () => {
    const curve: EvalCurve = {
      name: 'early_answering',
      xLabel: 'x',
      yLabel: 'y',
      x: [0, 0.5, 1],
      y: [0.2, 0.5, 1],
      baseline: { x: [0, 1], y: [0.2, 1] },
      area: { kind: 'AOC', value: 0.4567, baseline: 0.4 },
    };
    const d = evalCurveData(curve);
    expect(d.data).toEqual([
      [0, 0.5, 1],
      [0.2, 0.5, 1],
      [0.2, null, 1],
    ]);
    expect(d.hasBaseline).toBe(true);
    expect(d.areaLabel).toBe('AOC 0.457 (random 0.400)');
  });

  it('finds the last finite value', () => {
    expect(lastValue([rec(1, { a: 1 }), rec(2, { a: null })], 'a')).toBe(1);
    expect(lastValue([], 'a')).toBeNull();
  });
});

describe('meanSeries', () => {
  it('averages the finite values of every step any run logs', () => {
    expect(
      meanSeries([
        { steps: [1, 2, 3], values: [1, 2, null] },
        { steps: [1, 2, 4], values: [3, Number.NaN, 8] },
      ]),
    ).toEqual({ steps: [1, 2, 3, 4], values: [2, 2, null, 8] });
    expect(meanSeries([])).toEqual({ steps: [], values: [] });
  });
});
