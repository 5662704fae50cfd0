import { describe, expect, it } from 'vitest';
import { baselineName, curveBaselineWord, formatSummaryValue, pairBaselines } from './baselines.js';

describe('eval baselines', () => {
  const keys = [
    'pass@1',
    'early_answering/aoc',
    'early_answering/aoc_random',
    'adding_mistakes/aoc',
    'adding_mistakes/aoc_baseline',
    'filler/filler_accuracy',
    'filler/no_cot_accuracy',
    'items',
  ];
  it('pairs each metric with its own baseline and drops baselines as rows', () => {
    expect(pairBaselines(keys)).toEqual([
      { key: 'pass@1', baseline: null },
      { key: 'early_answering/aoc', baseline: 'early_answering/aoc_random' },
      { key: 'adding_mistakes/aoc', baseline: 'adding_mistakes/aoc_baseline' },
      { key: 'filler/filler_accuracy', baseline: 'filler/no_cot_accuracy' },
      { key: 'items', baseline: null },
    ]);
    expect(pairBaselines(['a', 'b'], { a: 'b' })).toEqual([{ key: 'a', baseline: 'b' }]);
  });
  it('names a baseline as the data does', () => {
    expect(baselineName('early_answering/aoc', 'early_answering/aoc_random')).toBe('aoc_random');
    expect(baselineName('filler/filler_accuracy', 'filler/no_cot_accuracy')).toBe(
      'no_cot_accuracy',
    );
    expect(baselineName('x', 'y_random')).toBe('y_random');
  });
  it('calls adding-mistakes’ baseline a baseline, not random', () => {
    const summary = {
      'early_answering/aoc_random': 0.6833,
      'adding_mistakes/aoc_baseline': 0,
      'saliency/deletion_auc_random': 0.27,
    };
    expect(curveBaselineWord('early_answering', 0.6833, summary)).toBe('random');
    expect(curveBaselineWord('adding_mistakes', 0, summary)).toBe('baseline');
    expect(curveBaselineWord('deletion', 0.27, summary)).toBe('random');
    expect(curveBaselineWord('other', 0.5, summary)).toBe('baseline');
  });
  it('prints counts without decimals', () => {
    expect(formatSummaryValue(60)).toBe('60');
    expect(formatSummaryValue(0.45416)).toBe('0.4542');
    expect(formatSummaryValue(null)).toBe('—');
  });
});
