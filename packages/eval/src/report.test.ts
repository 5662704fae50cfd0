import { EvalReportSchema } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { makeCurve } from './curves.js';
import { EvaluationError } from './errors.js';
import { buildEvalReport, reportMarkdown } from './report.js';

const input = {
  name: 'step-10',
  model: 'tiny',
  dataset: { name: 'arithmetic', split: 'test', limit: 4, seed: 3 },
  createdAt: '2026-01-01T00:00:00.000Z',
  summary: {
    'pass@1': 0.5,
    'early_answering/aoc': 0.25,
    'early_answering/aoc_random': 0.1,
    nan: Number.NaN,
  },
  curves: [
    makeCurve({
      name: 'early_answering',
      xLabel: 'x',
      yLabel: 'y',
      curve: { x: [0, 1], y: [0.5, 1] },
      baseline: { x: [0, 1], y: [0.8, 1] },
      area: 'AOC',
    }),
  ],
};

describe('report', () => {
  it('builds a schema-valid report, NaN stored as null', () => {
    const r = buildEvalReport(input);
    expect(EvalReportSchema.parse(r)).toEqual(r);
    expect(r.summary['nan']).toBeNull();
    expect(r.curves[0]?.x).toEqual([0, 1]);
  });
  it('rejects an invalid report with a named field', () => {
    expect(() => buildEvalReport({ ...input, dataset: { ...input.dataset, seed: 1.5 } })).toThrow(
      EvaluationError,
    );
    expect(() => buildEvalReport({ ...input, dataset: { ...input.dataset, seed: 1.5 } })).toThrow(
      /dataset\.seed/,
    );
  });
  it('renders a Markdown table with baselines', () => {
    const md = reportMarkdown(buildEvalReport(input));
    expect(md).toContain('| early_answering/aoc | 0.250 | 0.100 |');
    expect(md).toContain('| pass@1 | 0.500 | – |');
    expect(md).toContain('| early_answering | AOC | 0.250 | 0.100 |');
    expect(md).not.toContain('aoc_random |');
  });
});
