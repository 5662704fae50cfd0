import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handCopyModel } from '../test/hand-model.js';
import { setUpBackend, tinyModel } from '../test/helpers.js';
import type { SplitTokenizer } from './completion-split.js';
import {
  createTruncationReward,
  keptTokenCounts,
  truncationRewardValue,
} from './truncation-reward.js';

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

/** One id per character of a small alphabet; EOS = 38 (inside the tiny model's vocabulary). */
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

/** log p(gold) by a plain full-sequence forward pass: independent of the layout / KV-cache code. */
async function referenceP(
  m: LlamaModel,
  prompt: number[],
  cot: number[],
  delimiter: number[],
  gold: number[],
): Promise<number> {
  const ids = [...prompt, ...cot, ...delimiter, ...gold];
  const logp = tf.tidy(() =>
    tf.logSoftmax(m.forward(tf.tensor2d([ids], [1, ids.length], 'int32'))),
  );
  const rows = (await logp.array()) as number[][][];
  logp.dispose();
  const start = prompt.length + cot.length + delimiter.length;
  let sum = 0;
  gold.forEach((g, a) => {
    sum += rows[0]![start + a - 1]![g]!;
  });
  return Math.exp(sum);
}

describe('truncationRewardValue / keptTokenCounts', () => {
  it('is the mean drop of p(gold) over the truncations (hand values)', () => {
    expect(truncationRewardValue(0.9, [0.1, 0.1, 0.5, 0.9, 0.9])).toBeCloseTo(0.4, 12);
    expect(truncationRewardValue(0.2, [0.6, 0.2])).toBeCloseTo(-0.2, 12);
    expect(() => truncationRewardValue(1.5, [0.1])).toThrow(/\[0, 1\]/);
    expect(() => truncationRewardValue(0.5, [])).toThrow(/no truncated/);
  });
  it('keeps ⌊f·n⌋ tokens', () => {
    expect(keptTokenCounts(7, [0, 0.2, 0.4, 0.6, 0.8])).toEqual([0, 1, 2, 4, 5]);
    expect(keptTokenCounts(5, [0, 0.2, 0.4, 0.6, 0.8])).toEqual([0, 1, 2, 3, 4]);
    expect(keptTokenCounts(0, [0, 0.5])).toEqual([0, 0]);
  });
});

describe('createTruncationReward', () => {
  const completions = [' 2+3=5. #### 5', ' 1+1=2. #### 3', ' #### 4', ' 9+9=18. #### 18'].map(
    (text) => ({ text, tokenIds: [...tok.encode(text), EOS] }),
  );
  const samples = [{ gold: '5' }, { gold: '2' }, { gold: '4' }, { gold: '18' }];
  const prompt = tok.encode('2+3=');
  const ctx = { promptIds: completions.map(() => prompt) };

  it('equals the mean drop of p(gold) computed by full forward passes, without leaks', async () => {
    const fn = createTruncationReward({
      model,
      tokenizer: tok,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
      maxBatchSize: 5, // several batches, mixed lengths
    });
    const before = tf.memory().numTensors;
    const { values, info } = await fn(samples, completions, ctx);
    expect(tf.memory().numTensors).toBe(before);
    for (const [i, c] of completions.entries()) {
      const cot = tok.encode(c.text.slice(0, c.text.indexOf(' ####')));
      const delimiter = tok.encode(' #### ');
      const gold = tok.encode(samples[i]!.gold);
      const kept = keptTokenCounts(cot.length, [0, 0.2, 0.4, 0.6, 0.8]);
      expect(info[i]!.keptTokens).toEqual(kept);
      const pFull = await referenceP(model, prompt, cot, delimiter, gold);
      const pCut = await Promise.all(
        kept.map((k) => referenceP(model, prompt, cot.slice(0, k), delimiter, gold)),
      );
      expect(info[i]!.pFull).toBeCloseTo(pFull, 5);
      pCut.forEach((p, k) => {
        expect(info[i]!.pTruncated[k]).toBeCloseTo(p, 5);
      });
      const hand = pCut.reduce((s, p) => s + (pFull - p), 0) / pCut.length;
      expect(values[i]).toBeCloseTo(hand, 5);
    }
    expect(values[2]).toBe(0); // empty CoT: every truncation is the full sequence
    // Cost: distinct sequences per rollout (' 2+3=5.' has 7 CoT tokens: full + 5 cuts, the empty
    // cut shared by all four completions).
    expect(info[0]!.cost.backwardPasses).toBe(0);
    expect(info[0]!.cost.forwardPasses).toBeGreaterThan(1);
    expect(info[0]!.cost.forwardPasses).toBeLessThanOrEqual(6);
  });

  it('does not depend on the batch size or prefix reuse', async () => {
    const mk = (maxBatchSize: number, prefixReuse: boolean) =>
      createTruncationReward({
        model,
        tokenizer: tok,
        gold: (s: { gold: string }) => s.gold,
        split,
        delimiter: '####',
        maxBatchSize,
        prefixReuse,
      });
    const a = (await mk(64, true)(samples, completions, ctx)).values;
    const b = (await mk(1, false)(samples, completions, ctx)).values;
    a.forEach((x, i) => {
      expect(x).toBeCloseTo(b[i]!, 5);
    });
  });

  it('skips gated-out completions: NaN, no probabilities', async () => {
    const fn = createTruncationReward({
      model,
      tokenizer: tok,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
      gate: (i, r) => r['outcome']?.[i] === 0,
    });
    const { values, info } = await fn(samples, completions, {
      ...ctx,
      rewards: { outcome: [0, -1, -1, 0] },
    });
    expect(values.map(Number.isNaN)).toEqual([false, true, true, false]);
    expect(info[1]!.pFull).toBeNull();
  });

  it('rejects bad fractions and batch sizes when created', () => {
    const base = { model, tokenizer: tok, gold: (s: { gold: string }) => s.gold, split };
    expect(() => createTruncationReward({ ...base, delimiter: '#', fractions: [0, 1] })).toThrow(
      /fractions/,
    );
    expect(() => createTruncationReward({ ...base, delimiter: '#', maxBatchSize: 0 })).toThrow(
      /maxBatchSize is 0/,
    );
  });

  // Behaviour, on the hand-built model whose answer copies the one value token (test/hand-model):
  // when the value is in the CoT, cutting it before the value destroys p(gold); when the value is
  // in the prompt, the CoT is never attended and no cut changes p(gold).
  it('is high when the answer copies a CoT token and ~0 when it copies a prompt token', async () => {
    // ids: fillers '0'-'9' = 0-9, values 'a'-'j' = 10-19, delimiter '#' = 20, 'P'/'Q' = 21/22.
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
    const copySplit = (text: string) => {
      const at = text.indexOf('#');
      return { cotRange: [0, at] as const, answerRange: [at + 1, text.length] as const };
    };
    // CoT of 8 tokens: kept counts 0, 1, 3, 4, 6. Value at slot 5 -> 4 of 5 cuts drop it.
    const texts = ['01234c67#c', '01234567#e'];
    const prompts = [copyTok.encode('P123'), copyTok.encode('Q1e2')];
    const fn = createTruncationReward({
      model: copyModel,
      tokenizer: copyTok,
      gold: (s: { gold: string }) => s.gold,
      split: copySplit,
      delimiter: '#',
    });
    const { values, info } = await fn(
      [{ gold: 'c' }, { gold: 'e' }],
      texts.map((t) => ({ text: t, tokenIds: copyTok.encode(t) })),
      { promptIds: prompts },
    );
    expect(info[0]!.pFull).toBeGreaterThan(0.9);
    expect(info[0]!.pTruncated.at(-1)).toBeCloseTo(info[0]!.pFull!, 6); // 6 kept: value kept
    expect(values[0]).toBeGreaterThan(0.6); // ≈ 4/5 · (pFull - p without the value)
    expect(Math.abs(values[1]!)).toBeLessThan(0.01);
  });
});
