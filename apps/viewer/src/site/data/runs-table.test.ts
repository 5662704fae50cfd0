import { describe, expect, it } from 'vitest';
import { ARM_BY_NAME } from './groups.js';
import type { RunRow } from './run-rows.js';
import {
  availableColumns,
  diffWithoutNoise,
  filterRows,
  groupRows,
  nonEmptyColumns,
  sortRows,
} from './runs-table.js';

function row(id: string, name: string, last: Record<string, number>, pass?: number): RunRow {
  return {
    id,
    info: { name, status: 'finished', createdAt: id, config: {} } as unknown as RunRow['info'],
    kind: pass === undefined ? 'train' : 'eval',
    label: name,
    lastStep: 3,
    last,
    evals:
      pass === undefined
        ? []
        : [{ file: 'e.json', name: 'e', model: 'm', summary: { 'pass@1': pass } }],
    evaluated: null,
    problems: [],
    stale: false,
  };
}

describe('runs table model', () => {
  const rows = [
    row('1', 'A-s0', { reward: 0.5 }),
    row('2', 'A-s1', { reward: 0.7 }),
    row('3', 'B-s0', { reward: 0.1, kl: 2 }),
    row('4', 'B-eval', {}, 0.4),
  ];
  const cols = availableColumns(rows);
  const col = (id: string) => cols.find((c) => c.id === id)!;
  it('offers run, metric and eval columns and hides empty ones', () => {
    expect(cols.map((c) => c.id)).toEqual([
      'kind',
      'status',
      'steps',
      'created',
      'problems',
      'metric:reward',
      'metric:kl',
      'eval:pass@1',
    ]);
    const shown = nonEmptyColumns(cols, rows.slice(0, 2)).map((c) => c.id);
    expect(shown).not.toContain('metric:kl');
    expect(shown).not.toContain('problems');
    expect(shown).toContain('metric:reward');
  });
  it('shows a running run whose writer is gone as stale', () => {
    const r = { ...row('9', 'x', {}), stale: true };
    expect(col('status').value(r)).toBe('stale');
    expect(col('status').value(rows[0]!)).toBe('finished');
  });
  it('sorts with missing values last both ways, and filters by words', () => {
    expect(sortRows(rows, col('metric:reward'), 'asc').map((r) => r.id)).toEqual([
      '3',
      '1',
      '2',
      '4',
    ]);
    expect(sortRows(rows, col('metric:reward'), 'desc').map((r) => r.id)).toEqual([
      '2',
      '1',
      '3',
      '4',
    ]);
    expect(filterRows(rows, 'b eval').map((r) => r.id)).toEqual(['4']);
    expect(filterRows(rows, '  ').length).toBe(4);
  });
  it('groups by arm with mean ± sd over the group', () => {
    const groups = groupRows(rows, ARM_BY_NAME, cols, (r) => r.label, true);
    expect(groups.map((g) => [g.key, g.rows.map((r) => r.id)])).toEqual([
      ['A', ['1', '2']],
      ['B', ['3', '4']],
    ]);
    const a = groups[0]!.stats.get('metric:reward')!;
    expect(a.mean).toBeCloseTo(0.6, 12);
    expect(a.sd).toBeCloseTo(Math.sqrt(0.02), 12); // ((0.1)^2 + (0.1)^2) / 1
    expect(groups[1]!.stats.get('eval:pass@1')).toEqual({ mean: 0.4, sd: 0, n: 1 });
  });
  it('leaves noise keys out of the config diff', () => {
    const d = diffWithoutNoise([
      { runName: 'a', runsDir: '/x', lr: 1 },
      { runName: 'b', runsDir: '/y', lr: 2 },
    ]);
    expect(d.rows.map((r) => r.key)).toEqual(['lr']);
  });
});
