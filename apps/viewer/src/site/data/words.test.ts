import type { SampleToken } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { groupTokens, groupWords } from './words.js';

const t = (
  text: string,
  relevance: number | null,
  span: SampleToken['span'] = 'cot',
): SampleToken => ({
  text,
  relevance,
  span,
});

describe('groupWords', () => {
  const tokens = [
    t(' compu', 0.2),
    t('ting', 0.6),
    t(' 12', -1),
    t('*', null),
    t('3', 0.5),
    t('\n', null, 'delimiter'),
    t('####', null, 'delimiter'),
    t(' 3', null, 'answer'),
    t('6', null, 'answer'),
  ];

  it('merges sub-word tokens and keeps the text intact', () => {
    const words = groupWords(tokens);
    expect(words.map((w) => w.text)).toEqual([' computing', ' 12*3', '\n', '####', ' 36']);
    expect(words.map((w) => w.text).join('')).toBe(tokens.map((x) => x.text).join(''));
    expect(words[0]!.tokenIndices).toEqual([0, 1]);
  });

  it('averages the relevance of tokens that have one', () => {
    const words = groupWords(tokens);
    expect(words[0]!.relevance).toBeCloseTo(0.4, 12);
    expect(words[1]!.relevance).toBeCloseTo(-0.25, 12); // (-1 + 0.5) / 2, null skipped
    expect(words[1]!.tokenRelevances).toEqual([-1, null, 0.5]);
    expect(words[3]!.relevance).toBeNull();
  });

  it('never crosses a span boundary', () => {
    const words = groupWords([t('a', 1), t('b', null, 'answer')]);
    expect(words.map((w) => w.span)).toEqual(['cot', 'answer']);
  });

  it('starts a new word after a token ending in whitespace', () => {
    expect(groupWords([t('a ', 0), t('b', 0)]).map((w) => w.text)).toEqual(['a ', 'b']);
  });

  it('token granularity keeps one group per token', () => {
    expect(groupTokens(tokens)).toHaveLength(tokens.length);
    expect(groupTokens(tokens)[2]!.relevance).toBe(-1);
  });
});
