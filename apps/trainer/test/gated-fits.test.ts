// Skipping the mask fits of completions a gate discards is exact: the advantages equal those of
// fitting every completion and zeroing the gated ones with grpo's own gate (method.md §4).
import { initBackend } from '@atmanrl/attention-mask/node';
import { combineRewards, type RewardSpec, scoreCompletions, whenReward } from '@atmanrl/grpo';
import {
  createRandomModel,
  createTinyTokenizer,
  type LlamaModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model';
import {
  createSaliencyReward,
  type FitSaliencyOptions,
  fitSaliencyMasks,
  type SaliencyItem,
} from '@atmanrl/saliency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let model: LlamaModel;
const tokenizer = createTinyTokenizer();
beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  model = createRandomModel(
    {
      vocab_size: TINY_VOCAB_SIZE,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
    },
    4,
    { tokenizer },
  );
});
afterAll(() => model.dispose());

const texts = [' 1+2=3. #### 3', ' 1+2=4. #### 4', ' 2+2=4. #### 4', ' 5-1=4. #### 3'];
const golds = ['3', '3', '4', '4'];
const completions = texts.map((text) => ({
  text,
  tokenIds: tokenizer.encode(text, { addSpecialTokens: false }),
  truncated: false,
}));
const samples = golds.map((gold) => ({ gold }));
const ctx = {
  promptIds: texts.map(() => [
    tokenizer.bosTokenId!,
    ...tokenizer.encode('Q:', { addSpecialTokens: false }),
  ]),
  completionIds: completions.map((c) => c.tokenIds),
  groupSize: 2,
  step: 0,
};
const split = (text: string) => {
  const at = text.indexOf('####');
  return {
    cotRange: [0, text.slice(0, at).trimEnd().length] as const,
    answerRange: [at + 5, text.length] as const,
  };
};
const outcome: RewardSpec<{ gold: string }> = {
  name: 'outcome',
  fn: async (s, cs) => cs.map((c, i) => (c.text.endsWith(` ${s[i]!.gold}`) ? 0 : -1)),
};
const fit: FitSaliencyOptions = { steps: 6, lr: 0.02 };

describe('gated mask fits', () => {
  it('give the same advantages as fitting everything and gating in grpo, with fewer fits', async () => {
    const fitted: number[] = [];
    const counting = (items: readonly SaliencyItem[], o: FitSaliencyOptions) => {
      fitted.push(items.length);
      return fitSaliencyMasks(model, items, o);
    };
    const base = {
      model,
      tokenizer,
      gold: (s: { gold: string }) => s.gold,
      split,
      delimiter: '####',
      fit,
    };
    const everything: RewardSpec<{ gold: string }>[] = [
      outcome,
      {
        name: 'saliency',
        fn: createSaliencyReward({ ...base, fitMasks: counting }),
        gate: whenReward('outcome', (r) => r === 0),
      },
    ];
    const skipping: RewardSpec<{ gold: string }>[] = [
      outcome,
      {
        name: 'saliency',
        fn: createSaliencyReward({
          ...base,
          fitMasks: counting,
          gate: (i, raw) => raw['outcome']?.[i] === 0,
        }),
      },
    ];
    const a = await scoreCompletions(everything, samples, completions, ctx);
    const b = await scoreCompletions(skipping, samples, completions, ctx);
    expect(a.raw['outcome']).toEqual([0, -1, 0, -1]);
    expect(fitted).toEqual([4, 2]);
    const opts = { groupSize: 2, scaleRewards: 'group' as const };
    const ca = combineRewards(everything, a.raw, opts);
    const cb = combineRewards(skipping, b.raw, opts);
    expect(cb.total).toEqual(ca.total);
    expect(cb.advantages).toEqual(ca.advantages);
    // the fitted completions got the same reward both ways
    expect(b.raw['saliency']![0]).toBeCloseTo(a.raw['saliency']![0]!, 6);
    expect(Number.isNaN(b.raw['saliency']![1]!)).toBe(true);
  });
});
