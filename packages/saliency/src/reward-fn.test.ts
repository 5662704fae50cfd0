import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpBackend, tinyModel } from '../test/helpers.js';
import type { SplitTokenizer } from './completion-split.js';
import { type FitSaliencyOptions, fitSaliencyMasks } from './fit.js';
import { FIT_PRESETS } from './fit-presets.js';
import { saliencyReward } from './reward.js';
import { createSaliencyReward } from './reward-fn.js';
import type { SaliencyItem } from './types.js';

let model: LlamaModel;
beforeAll(async () => {
  await setUpBackend();
  model = tinyModel(5);
});
afterAll(() => model.dispose());

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
const completions = [' 2+3=5. #### 5', ' 1+1=2. #### 3', ' 4. #### 4', ' 9+9=18. #### 18'].map(
  (text) => ({
    text,
    tokenIds: [...tok.encode(text), EOS],
  }),
);
const samples = [{ gold: '5' }, { gold: '2' }, { gold: '4' }, { gold: '18' }];
const ctx = { promptIds: completions.map(() => tok.encode('2+3=')) };
const fit = { steps: 8, lr: 0.02 };

/** The reward with `fit`, recording the items each call hands to the fit. */
function recordingReward(fitOptions: FitSaliencyOptions = fit) {
  const seen: SaliencyItem[][] = [];
  const fn = createSaliencyReward({
    model,
    tokenizer: tok,
    gold: (s: { gold: string }) => s.gold,
    split,
    delimiter: '####',
    fit: fitOptions,
    fitMasks: async (items, o) => {
      seen.push([...items]);
      return fitSaliencyMasks(model, items, o);
    },
  });
  return { seen, fn };
}

describe('createSaliencyReward', () => {
  it('fits the teacher-forced items of the completions and maps H to the reliance reward', async () => {
    const fn = createSaliencyReward({
      model,
      tokenizer: tok,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
      fit,
    });
    const before = tf.memory().numTensors;
    const { values, info } = await fn(samples, completions, ctx);
    expect(tf.memory().numTensors).toBe(before);
    // Independent: the same items built by hand, fitted directly.
    const items: SaliencyItem[] = completions.map((c, i) => {
      const cot = c.text.slice(0, c.text.indexOf(' ####'));
      return {
        promptIds: ctx.promptIds[i]!,
        cotIds: tok.encode(cot),
        delimiterIds: tok.encode(' #### '),
        goldAnswerIds: tok.encode(samples[i]!.gold),
      };
    });
    const direct = await fitSaliencyMasks(model, items, fit);
    direct.forEach((d, i) => {
      expect(info[i]!.fit!.cotIds).toEqual(d.cotIds);
      expect(values[i]).toBeCloseTo(saliencyReward(d.h), 6);
    });
    expect(info[1]!.spans.cotEnd).toBe(7); // ' 1+1=2.'
  });

  it('fits with the fast preset when no fit options are given', async () => {
    const fn = createSaliencyReward({
      model,
      tokenizer: tok,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
    });
    const { values, info } = await fn(samples.slice(0, 2), completions.slice(0, 2), ctx);
    expect(info[0]!.fit!.steps).toBe(FIT_PRESETS.fast.steps);
    const items: SaliencyItem[] = [0, 1].map((i) => ({
      promptIds: ctx.promptIds[i]!,
      cotIds: info[i]!.fit!.cotIds,
      delimiterIds: tok.encode(' #### '),
      goldAnswerIds: tok.encode(samples[i]!.gold),
    }));
    const direct = await fitSaliencyMasks(model, items, { ...FIT_PRESETS.fast });
    direct.forEach((d, i) => {
      expect(values[i]).toBeCloseTo(saliencyReward(d.h), 6);
    });
    const paper = await fitSaliencyMasks(model, items, { steps: 7 });
    expect(paper.some((p, i) => Math.abs(saliencyReward(p.h) - values[i]!) > 1e-4)).toBe(true);
  });

  it('paper-literal is the complement of reliance', async () => {
    const mk = (direction: 'reliance' | 'paper-literal') =>
      createSaliencyReward({
        model,
        tokenizer: tok,
        gold: (s: { gold: string }) => s.gold,
        split,
        delimiter: '####',
        fit,
        direction,
      });
    const a = (await mk('reliance')(samples, completions, ctx)).values;
    const b = (await mk('paper-literal')(samples, completions, ctx)).values;
    a.forEach((x, i) => {
      expect(x + b[i]!).toBeCloseTo(1, 6);
    });
  });

  it('fits only the completions the gate admits; the others get NaN and no fit', async () => {
    const seen: number[] = [];
    const fn = createSaliencyReward({
      model,
      tokenizer: tok,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
      fit,
      gate: (i, r) => r['outcome']?.[i] === 0,
      fitMasks: async (items, o) => {
        seen.push(items.length);
        return fitSaliencyMasks(model, items, o);
      },
    });
    const outcome = [0, -1, 0, -1];
    const { values, info } = await fn(samples, completions, { ...ctx, rewards: { outcome } });
    expect(seen).toEqual([2]);
    expect(values.map(Number.isNaN)).toEqual([false, true, false, true]);
    expect(info.map((x) => x.fit === null)).toEqual([false, true, false, true]);
    const none = await fn(samples, completions, { ...ctx, rewards: { outcome: [-1, -1, -1, -1] } });
    expect(seen).toEqual([2]); // no fit at all for an all-wrong batch
    expect(none.values.every(Number.isNaN)).toBe(true);
  });

  it('fits identical items once and gives the duplicates the same result', async () => {
    const { seen, fn } = recordingReward();
    // 0 and 2 repeat one completion of one prompt; 1 repeats 0's text under another gold answer,
    // 3 under another prompt: neither is a duplicate.
    const c = [completions[0]!, completions[0]!, completions[0]!, completions[0]!];
    const s = [samples[0]!, samples[1]!, samples[0]!, samples[0]!];
    const promptIds = [ctx.promptIds[0]!, ctx.promptIds[0]!, ctx.promptIds[0]!, tok.encode('5=')];
    const { values, info } = await fn(s, c, { promptIds });
    expect(seen.map((x) => x.length)).toEqual([3]);
    // cost: 3 distinct fits of 8 steps (no early stop) over 4 completions: 8 backward and 2 + 8
    // forward passes per fit (step 1's forward is the CE under the initial mask)
    expect(info[0]!.cost.backwardPasses).toBeCloseTo((3 * 8) / 4, 12);
    expect(info[0]!.cost.forwardPasses).toBeCloseTo((3 * (2 + 8)) / 4, 12);
    expect(info[0]!.cost.ms).toBeGreaterThanOrEqual(0);
    expect(info[3]!.cost).toBe(info[0]!.cost);
    expect(info[2]!.fit).toBe(info[0]!.fit);
    expect(info[1]!.fit).not.toBe(info[0]!.fit);
    expect(info[3]!.fit).not.toBe(info[0]!.fit);
    // Against fitting all four separately.
    const direct = await fitSaliencyMasks(
      model,
      [0, 1, 2, 3].map((i) => ({
        promptIds: promptIds[i]!,
        cotIds: tok.encode(' 2+3=5.'),
        delimiterIds: tok.encode(' #### '),
        goldAnswerIds: tok.encode(s[i]!.gold),
      })),
      fit,
    );
    direct.forEach((d, i) => {
      expect(values[i]).toBeCloseTo(saliencyReward(d.h), 6);
    });
  });

  it('diagnostics: false costs 2 forward passes fewer per fit and gives the same values', async () => {
    const a = recordingReward();
    const b = recordingReward({ ...fit, diagnostics: false });
    const full = await a.fn(samples, completions, ctx);
    const lean = await b.fn(samples, completions, ctx);
    expect(lean.values).toEqual(full.values);
    const fits = b.seen[0]!.length;
    const n = completions.length;
    expect(full.info[0]!.cost.forwardPasses - lean.info[0]!.cost.forwardPasses).toBeCloseTo(
      (2 * fits) / n,
      12,
    );
    expect(lean.info[0]!.cost.backwardPasses).toBe(full.info[0]!.cost.backwardPasses);
    expect(lean.info[0]!.fit!.ceFinal).toBeNaN();
  });

  it('hands the fit the distinct items shortest CoT first and maps each result back', async () => {
    const { seen, fn } = recordingReward();
    // CoT lengths 7, 7, 3, 8 in call order; 0 and 1 tie on both lengths and keep call order
    const { values, info } = await fn(samples, completions, ctx);
    expect(seen[0]!.map((it) => it.cotIds.length)).toEqual([3, 7, 7, 8]);
    expect(seen[0]!.map((it) => tok.decode([...it.goldAnswerIds]))).toEqual(['4', '5', '2', '18']);
    // each completion gets the fit of its own item: against fitting each alone
    for (let i = 0; i < completions.length; i++) {
      expect(tok.decode([...info[i]!.fit!.cotIds])).toBe(completions[i]!.text.split(' ####')[0]);
      const [alone] = await fitSaliencyMasks(
        model,
        [seen[0]!.find((it) => tok.decode([...it.goldAnswerIds]) === samples[i]!.gold)!],
        fit,
      );
      expect(values[i]).toBeCloseTo(saliencyReward(alone!.h), 5);
    }
  });
});
