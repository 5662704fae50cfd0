import { describe, expect, it } from 'vitest';
import { csvFileName, toCsv } from './csv.js';
import { rangeSeries } from './curves.js';

describe('chart CSV', () => {
  it('writes a header and one row per x, empty fields for gaps, quoting labels that need it', () => {
    expect(
      toCsv(
        'step',
        ['a', 'b,"c"'],
        [
          [1, 2],
          [0.5, null],
          [null, 1e-7],
        ],
      ),
    ).toBe('step,a,"b,""c"""\r\n1,0.5,\r\n2,,1e-7\r\n');
    expect(toCsv('x', [], [[]])).toBe('x\r\n');
  });
  it('names the file after the chart', () => {
    expect(csvFileName('rewards/saliency/mean')).toBe('rewards_saliency_mean.csv');
    expect(csvFileName('///')).toBe('chart.csv');
  });
});

describe('rangeSeries', () => {
  it('gives min and max of the finite values at each step any series logs', () => {
    const r = rangeSeries([
      { steps: [1, 2, 3], values: [1, 5, null] },
      { steps: [2, 3, 4], values: [3, null, 7] },
      { steps: [1, 2], values: [-1, 4] },
    ]);
    expect(r).toEqual({ steps: [1, 2, 3, 4], lo: [-1, 3, null, 7], hi: [1, 5, null, 7] });
  });
});
