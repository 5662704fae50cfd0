import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handCopyModel } from '../test/hand-model.js';
import { setUpBackend, tinyModel } from '../test/helpers.js';
import { createAtmanReward } from './atman-reward.js';
import type { SplitTokenizer } from './completion-split.js';
import { atmanSaliency } from './sweep.js';

let model: LlamaModel;
let copyModel: LlamaModel;
beforeAll(async () => {
  await setUpBackend();
  model = tinyModel(5);
  copyModel = handCopyModel();
});
afterAll(() => {
  model.dispose();
  copyModel.dispose();
});

const ALPHABET = '0123456789+=.# ';
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

describe('createAtmanReward', () => {
  it('is the mean AtMan relevance of the CoT tokens of the teacher-forced item, without leaks', async () => {
    const texts = [' 2+3=5. #### 5', ' #### 4', ' 2+3=5. #### 5'];
    const completions = texts.map((text) => ({ text, tokenIds: [...tok.encode(text), EOS] }));
    const samples = [{ gold: '5' }, { gold: '4' }, { gold: '5' }];
    const prompt = tok.encode('2+3=');
    const fn = createAtmanReward({
      model,
      tokenizer: tok,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
    });
    const before = tf.memory().numTensors;
    const { values, info } = await fn(samples, completions, { promptIds: texts.map(() => prompt) });
    expect(tf.memory().numTensors).toBe(before);
    const [direct] = await atmanSaliency(model, [
      {
        promptIds: prompt,
        cotIds: tok.encode(' 2+3=5.'),
        delimiterIds: tok.encode(' #### '),
        goldAnswerIds: tok.encode('5'),
      },
    ]);
    const mean = direct!.relevance.reduce((a, b) => a + b, 0) / direct!.relevance.length;
    expect(values[0]).toBeCloseTo(mean, 6);
    expect(values[2]).toBe(values[0]); // identical completion, swept once
    expect(values[1]).toBe(0); // empty CoT
    // Two distinct items: 7 + 1 and 0 + 1 rows over 3 completions.
    expect(info[0]!.cost.forwardPasses).toBeCloseTo(9 / 3, 12);
    expect(info[0]!.cost.backwardPasses).toBe(0);
  });

  it('is higher when the answer copies a CoT token than when it copies a prompt token', async () => {
    const chars = '0123456789abcdefghij#PQ';
    const copyTok: SplitTokenizer = {
      eosTokenIds: [23],
      encode: (t) => [...t].map((ch) => chars.indexOf(ch)),
      decode: (ids) =>
        ids
          .filter((i) => i !== 23)
          .map((i) => chars[i]!)
          .join(''),
    };
    const fn = createAtmanReward({
      model: copyModel,
      tokenizer: copyTok,
      gold: (s: { gold: string }) => s.gold,
      split: (text) => {
        const at = text.indexOf('#');
        return { cotRange: [0, at] as const, answerRange: [at + 1, text.length] as const };
      },
      delimiter: '#',
      gate: (i) => i < 2,
    });
    const texts = ['01234c67#c', '01234567#e', '01234567#e'];
    const { values } = await fn(
      [{ gold: 'c' }, { gold: 'e' }, { gold: 'e' }],
      texts.map((t) => ({ text: t, tokenIds: copyTok.encode(t) })),
      { promptIds: [copyTok.encode('P123'), copyTok.encode('Q1e2'), copyTok.encode('Q1e2')] },
    );
    expect(values[0]!).toBeGreaterThan(values[1]! + 0.05);
    expect(Number.isNaN(values[2]!)).toBe(true); // gated out
  });
});
