import { describe, expect, it } from 'vitest';
import { axisWidth, INTEGER_INCRS, lastFinite, metricUnit, valueNear, yRange } from './axes.js';

describe('chart axes and read-outs', () => {
  it('integer increments never include fractions such as 2.5', () => {
    expect(INTEGER_INCRS.slice(0, 7)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(INTEGER_INCRS.every(Number.isInteger)).toBe(true);
  });
  it('gives a constant series a band around its value, not 0–100', () => {
    expect(yRange(0.5, 0.5)).toEqual([0.45, 0.55]);
    expect(yRange(-2, -2)).toEqual([-2.2, -1.8]);
    expect(yRange(0, 0)).toEqual([-0.1, 0.1]);
    expect(yRange(null, null)).toEqual([0, 1]);
    expect(yRange(0, 10)).toEqual([-0.5, 10.5]);
  });
  it('names units of timing metrics and lengths', () => {
    expect(metricUnit('time/generation')).toBe('s');
    expect(metricUnit('time/worker_idle')).toBe('s');
    expect(metricUnit('step_time')).toBe('s');
    expect(metricUnit('queue/worker2_busy')).toBe('s');
    expect(metricUnit('queue/workers')).toBe('');
    expect(metricUnit('tokens_per_second')).toBe('tokens/s');
    expect(metricUnit('completions/mean_length')).toBe('tokens');
    expect(metricUnit('cot_tokens/mean')).toBe('tokens');
    expect(metricUnit('reward')).toBe('');
  });
  it('sizes the y axis to its widest label', () => {
    expect(axisWidth(['1', '-0.0025'])).toBe(Math.ceil(7 * 7.2 + 18));
    expect(axisWidth([])).toBe(18);
  });
  it('reads the last finite value and the nearest value for the tooltip', () => {
    expect(lastFinite([1, 2, null, Number.NaN])).toBe(2);
    expect(lastFinite([null])).toBeNull();
    const col = [null, 0.1, null, null, null, null, 0.6];
    expect(valueNear(col, 1, 2)).toEqual({ value: 0.1, row: 1 });
    expect(valueNear(col, 3, 2)).toEqual({ value: 0.1, row: 1 });
    expect(valueNear(col, 4, 2)).toEqual({ value: 0.6, row: 6 });
    expect(valueNear(col, 4, 1)).toBeNull();
  });
});
