import { describe, expect, it } from 'vitest';
import type { RunRow } from '../data/run-rows.js';
import { armOfRow, parseResults, reportHeading } from './experiment.js';

describe('experiment report helpers', () => {
  it('parses results.json and rejects other JSON', () => {
    const r = parseResults(
      '{"start":{"pass@1":0.5},"arms":{"A":{"pass@1":{"mean":0.4,"std":0.1}}}}',
    );
    expect(r?.arms.A?.['pass@1']).toEqual({ mean: 0.4, std: 0.1 });
    expect(parseResults('{"start":{}}')).toBeNull();
    expect(parseResults('not json')).toBeNull();
  });
  it('takes the title and first paragraph of REPORT.md', () => {
    expect(reportHeading('# Experiment `small-cpu`\n\nFour arms.\nMore.\n\n## Reproduce')).toEqual({
      title: 'Experiment small-cpu',
      description: 'Four arms.',
    });
    expect(reportHeading('no heading')).toEqual({ title: 'Experiment', description: '' });
  });
  it('puts a training run and the eval of its checkpoint in the same arm; the start eval in none', () => {
    const names = new Map([['runs/A-s1/r', 'A-outcome-s1']]);
    const train = { kind: 'train', id: 'runs/A-s1/r', info: { name: 'A-outcome-s1' } } as RunRow;
    const ev = {
      kind: 'eval',
      id: 'e',
      info: { name: 'eval' },
      evaluated: { runId: 'runs/A-s1/r' },
    };
    const start = { kind: 'eval', id: 's', info: { name: 'eval' }, evaluated: { runId: null } };
    expect(armOfRow(train, names)).toBe('A-outcome');
    expect(armOfRow(ev as unknown as RunRow, names)).toBe('A-outcome');
    expect(armOfRow(start as unknown as RunRow, names)).toBeNull();
  });
});
