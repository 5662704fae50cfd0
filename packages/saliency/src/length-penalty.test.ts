import { describe, expect, it } from 'vitest';
import type { SplitTokenizer } from './completion-split.js';
import { createLengthPenalty, lengthPenalty } from './length-penalty.js';

/** One id per character; EOS = 38. */
const ALPHABET = '0123456789+=.# abcdefghijklmnopqrstuvw';
const EOS = 38;
const tok: SplitTokenizer = {
  eosTokenIds: [EOS],
  encode: (t) => [...t].map((ch) => ALPHABET.indexOf(ch)),
  decode: (ids) =>
    ids
      .filter((i) => i !== EOS)
      .map((i) => ALPHABET[i]!)
      .join(''),
};
const split = (text: string) => {
  const at = text.indexOf('####');
  if (at < 0) return { cotRange: [0, text.length] as const, answerRange: null };
  return {
    cotRange: [0, text.slice(0, at).trimEnd().length] as const,
    answerRange: [at + 5, text.length] as const,
  };
};
const view = (text: string) => ({ text, tokenIds: [...tok.encode(text), EOS] });

describe('lengthPenalty', () => {
  it('is -w·max(0,|C|-T)/T with a target (hand values)', () => {
    expect(lengthPenalty(30, { weight: 0.5, target: 20 })).toBeCloseTo(-0.25, 12);
    expect(lengthPenalty(20, { weight: 0.5, target: 20 })).toBe(0);
    expect(lengthPenalty(5, { weight: 0.5, target: 20 })).toBe(0);
    expect(lengthPenalty(40, { weight: 1, target: 20 })).toBeCloseTo(-1, 12); // 2T costs w
  });

  it('is -w·|C|/L without a target (hand values)', () => {
    expect(lengthPenalty(24, { weight: 0.2, maxLength: 96 })).toBeCloseTo(-0.05, 12);
    expect(lengthPenalty(96, { weight: 0.2, maxLength: 96 })).toBeCloseTo(-0.2, 12);
    expect(lengthPenalty(0, { weight: 0.2, maxLength: 96 })).toBe(0);
  });

  it('rejects a bad weight, target, missing normaliser or token count, naming the option', () => {
    expect(() => lengthPenalty(3, { weight: 0, maxLength: 9 })).toThrow(/weight is 0/);
    expect(() => lengthPenalty(3, { weight: 1, target: -1 })).toThrow(/target is -1/);
    expect(() => lengthPenalty(3, { weight: 1 })).toThrow(/target .* or maxLength/);
    expect(() => lengthPenalty(-1, { weight: 1, maxLength: 9 })).toThrow(/cotTokens is -1/);
  });
});

describe('createLengthPenalty', () => {
  it('counts the CoT tokens of the completion split and prices them (one id per character)', async () => {
    const fn = createLengthPenalty({ weight: 0.5, target: 4, tokenizer: tok, split });
    // CoT ' 2+3=5.' = 7 tokens; ' 4.' = 3; no delimiter: the whole ' 1+1=2. 2' (9 tokens) is CoT.
    const { values, info } = await fn(
      [],
      [view(' 2+3=5. #### 5'), view(' 4. #### 4'), view(' 1+1=2. 2')],
    );
    expect(info.map((x) => x.cotTokens)).toEqual([7, 3, 9]);
    expect(values[0]).toBeCloseTo((-0.5 * 3) / 4, 12);
    expect(values[1]).toBe(0);
    expect(values[2]).toBeCloseTo((-0.5 * 5) / 4, 12);
    expect(info[0]!.cost.forwardPasses).toBe(0);
    expect(info[0]!.cost.backwardPasses).toBe(0);
    expect(info[0]!.cost.ms).toBeGreaterThanOrEqual(0);
  });

  it('checks its options when created', () => {
    expect(() => createLengthPenalty({ weight: 1, tokenizer: tok, split })).toThrow(
      /target .* or maxLength/,
    );
  });
});
