import type { SampleRecord } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { groupRollouts, isProbe, matchingGroup, sampleSteps } from './samples.js';

const s = (
  step: number,
  promptIndex: number,
  completionIndex: number,
  sampleId: string,
): SampleRecord => ({
  version: 1,
  step,
  promptIndex,
  completionIndex,
  sampleId,
  prompt: `p-${sampleId}`,
  completion: '',
  gold: '1',
  parsedAnswer: null,
  correct: false,
  truncated: false,
  cotRange: [0, 0],
  answerRange: null,
  rewards: {},
  reward: 0,
  advantage: 0,
  completionTokens: 0,
  tokens: [],
});

describe('rollout groups', () => {
  const samples = [
    s(20, 0, 1, 'b'),
    s(10, 0, 1, 'a'),
    s(10, 0, 0, 'a'),
    s(20, 1, 0, 'a'),
    s(20, 0, 0, 'b'),
  ];
  const groups = groupRollouts(samples);

  it('groups by step and prompt, completions in order', () => {
    expect([...groups.keys()]).toEqual([10, 20]);
    expect(groups.get(20)!.map((g) => g.sampleId)).toEqual(['b', 'a']);
    expect(groups.get(10)![0]!.completions.map((c) => c.completionIndex)).toEqual([0, 1]);
  });

  it('matches the same sample at another step, else the same prompt index', () => {
    const a10 = groups.get(10)![0]!;
    expect(matchingGroup(groups, 20, a10)).toMatchObject({
      sameSample: true,
      group: { promptIndex: 1 },
    });
    const b20 = groups.get(20)![0]!;
    expect(matchingGroup(groups, 10, b20)).toMatchObject({
      sameSample: false,
      group: { sampleId: 'a' },
    });
    expect(matchingGroup(groups, 99, a10)).toBeNull();
  });
});

describe('probe prompts', () => {
  const probe = (step: number, promptIndex: number, c: number) => ({
    ...s(step, promptIndex, c, 'probe/0'),
    probe: true,
  });
  const samples = [
    s(4, 0, 0, 'train-7'),
    probe(4, 0, 0), // same promptIndex as a batch prompt: still its own group
    probe(4, 0, 1),
    s(8, 0, 0, 'train-9'),
    probe(8, 0, 0),
  ];
  it('groups probe records apart from batch prompts and finds every step of a sampleId', () => {
    const groups = groupRollouts(samples);
    expect(groups.get(4)!.map((g) => [g.sampleId, g.completions.length])).toEqual([
      ['train-7', 1],
      ['probe/0', 2],
    ]);
    const p4 = groups.get(4)!.find((g) => g.sampleId === 'probe/0')!;
    expect(isProbe(p4)).toBe(true);
    expect(isProbe(groups.get(4)![0]!)).toBe(false);
    expect(sampleSteps(groups, 'probe/0')).toEqual([4, 8]);
    expect(sampleSteps(groups, 'train-7')).toEqual([4]);
    const m = matchingGroup(groups, 8, p4)!;
    expect(m.sameSample).toBe(true);
    expect(m.group.sampleId).toBe('probe/0');
  });
});
