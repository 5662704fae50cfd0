import type { SampleRecord } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { quantile, SALIENCY_AGG, saliencyRecords, tokenKind } from './saliency-agg.js';

const tok = (text: string, relevance: number | null, span = 'cot') => ({ text, relevance, span });
const sample = (step: number, tokens: ReturnType<typeof tok>[]) =>
  ({ step, tokens }) as unknown as SampleRecord;

describe('aggregate saliency', () => {
  it('classifies tokens', () => {
    expect(['7', '12', '+', '=', ' ', 'So', 'é', '.', '8-'].map(tokenKind)).toEqual([
      'digits',
      'digits',
      'operators',
      'operators',
      'space',
      'words',
      'words',
      'other',
      'other',
    ]);
  });
  it('interpolates quantiles', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.1)).toBeCloseTo(1, 12);
    expect(quantile([], 0.5)).toBeNull();
  });
  it('aggregates the CoT tokens of each step (hand-computed)', () => {
    // step 1: CoT relevances 1 (digit), -1 (op), 0.5 (word), 0.25 (digit), 0 (space);
    // the answer token (span answer) and a null relevance are left out.
    const s1 = sample(1, [
      tok('3', 1),
      tok('+', -1),
      tok('So', 0.5),
      tok('4', 0.25),
      tok(' ', 0),
      tok('7', 9, 'answer'),
      tok('x', null),
    ]);
    const s2 = sample(2, [tok('a', -0.5), tok('b', 0.5)]);
    const [r1, r2] = saliencyRecords([s2, s1]);
    expect(r1!.step).toBe(1);
    const m = r1!.metrics;
    expect(m[SALIENCY_AGG.share]).toBe(3 / 5);
    expect(m[SALIENCY_AGG.mean]).toBeCloseTo(0.75 / 5, 12);
    expect(m[SALIENCY_AGG.p50]).toBe(0.25);
    expect(m[SALIENCY_AGG.kind('digits')]).toBe(0.625);
    expect(m[SALIENCY_AGG.kind('operators')]).toBe(-1);
    expect(m[SALIENCY_AGG.kind('words')]).toBe(0.5);
    // 5 CoT tokens → one per fifth, in order
    expect([0, 1, 2, 3, 4].map((b) => m[SALIENCY_AGG.position(b)])).toEqual([1, -1, 0.5, 0.25, 0]);
    expect(r2!.metrics[SALIENCY_AGG.share]).toBe(0.5);
    // 2 tokens: positions 0 and 1/2 → bins 0 and 2; the others empty
    expect(r2!.metrics[SALIENCY_AGG.position(0)]).toBe(-0.5);
    expect(r2!.metrics[SALIENCY_AGG.position(2)]).toBe(0.5);
    expect(r2!.metrics[SALIENCY_AGG.position(1)]).toBeNull();
    expect(saliencyRecords([sample(3, [tok('7', 1, 'answer')])])).toEqual([]);
  });
});
