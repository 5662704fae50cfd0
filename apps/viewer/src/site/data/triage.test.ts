import type { SampleRecord } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import type { RolloutGroup } from './samples.js';
import { cotLength, defaultGroup, groupStats, triageGroups } from './triage.js';

const sample = (p: Partial<SampleRecord> & { mode?: string; cotTokens?: number }) =>
  ({ completion: 'x', correct: true, advantage: 0, tokens: [], ...p }) as SampleRecord;
const group = (promptIndex: number, completions: SampleRecord[]): RolloutGroup => ({
  step: 1,
  promptIndex,
  sampleId: `s${promptIndex}`,
  prompt: '',
  gold: '',
  completions,
});

// g0: 4 identical correct, no spread; g1: 2 of 4 correct, spread 2, terse+verbose;
// g2: none correct, spread 0.5, bypass; g3: 3 of 4 correct, spread 1.5, terse
const g0 = group(
  0,
  [1, 2, 3, 4].map(() => sample({ mode: 'terse' })),
);
const g1 = group(1, [
  sample({ completion: 'a', advantage: 1, mode: 'terse' }),
  sample({ completion: 'b', advantage: 1, mode: 'verbose' }),
  sample({ completion: 'c', advantage: -1, correct: false, mode: 'verbose' }),
  sample({ completion: 'd', advantage: -1, correct: false, mode: 'terse' }),
]);
const g2 = group(2, [
  sample({ completion: 'a', advantage: 0.25, correct: false, mode: 'bypass' }),
  sample({ completion: 'b', advantage: -0.25, correct: false, mode: 'bypass' }),
]);
const g3 = group(3, [
  sample({ completion: 'a', advantage: 0.5, mode: 'terse' }),
  sample({ completion: 'b', advantage: 0.5, mode: 'terse' }),
  sample({ completion: 'c', advantage: 0.5, mode: 'terse' }),
  sample({ completion: 'd', advantage: -1, correct: false, mode: 'terse' }),
]);
const all = [g0, g1, g2, g3];
const ids = (gs: RolloutGroup[]) => gs.map((g) => g.promptIndex);

describe('rollout triage', () => {
  it('summarises a group', () => {
    expect(groupStats(g1)).toEqual({
      correct: 2,
      n: 4,
      spread: 2,
      modes: ['terse', 'verbose'],
      differ: true,
    });
    expect(groupStats(g0)).toEqual({
      correct: 4,
      n: 4,
      spread: 0,
      modes: ['terse'],
      differ: false,
    });
  });
  it('sorts by advantage spread and by number correct, stable on ties', () => {
    const any = { correct: 'any', mode: null } as const;
    expect(ids(triageGroups(all, { sort: 'spread', ...any }))).toEqual([1, 3, 2, 0]);
    expect(ids(triageGroups(all, { sort: 'correct-asc', ...any }))).toEqual([2, 1, 3, 0]);
    expect(ids(triageGroups(all, { sort: 'correct-desc', ...any }))).toEqual([0, 3, 1, 2]);
    expect(ids(triageGroups(all, { sort: 'index', ...any }))).toEqual([0, 1, 2, 3]);
  });
  it('filters by correctness and by mode present', () => {
    expect(ids(triageGroups(all, { sort: 'index', correct: 'mixed', mode: null }))).toEqual([1, 3]);
    expect(ids(triageGroups(all, { sort: 'index', correct: 'none', mode: null }))).toEqual([2]);
    expect(ids(triageGroups(all, { sort: 'index', correct: 'all', mode: null }))).toEqual([0]);
    expect(ids(triageGroups(all, { sort: 'index', correct: 'any', mode: 'verbose' }))).toEqual([1]);
  });
  it('opens on the differing group with the widest spread, never on identical completions', () => {
    expect(defaultGroup(all)?.promptIndex).toBe(1);
    expect(defaultGroup([g0, g2])?.promptIndex).toBe(2);
    expect(defaultGroup([g0])?.promptIndex).toBe(0);
    expect(defaultGroup([])).toBeNull();
  });
  it('takes the CoT length from cotTokens, else from the CoT tokens', () => {
    expect(cotLength(sample({ cotTokens: 7 }))).toBe(7);
    const tokens = [
      { text: 'a', relevance: 0, span: 'cot' },
      { text: 'b', relevance: 0, span: 'cot' },
      { text: '#', relevance: null, span: 'delimiter' },
    ] as SampleRecord['tokens'];
    expect(cotLength(sample({ tokens }))).toBe(2);
    expect(cotLength(sample({}))).toBeNull();
  });
});
