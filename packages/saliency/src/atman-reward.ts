// AtMan's one-token sweep as a reward function (issue 29, optional third estimator): how much the
// gold answer needs the CoT, measured by suppressing one CoT token at a time instead of fitting a
// mask. Forward passes only. Leaves out the sweep itself (sweep.ts) and composition (grpo).
//
// Formula (docs/method.md §4a), with relevance_j = CE(gold | CoT token j suppressed) - CE(gold)
// in nats per gold token (AtMan, f = 0.9):
//   r_atman = mean_j relevance_j       (0 for an empty CoT)
// A mean, like the reliance reward 1 - H/c: padding a CoT with tokens the answer does not need
// lowers it.
import type { CausalLM } from '@atmanrl/model';
import { gatedItems } from './_internal/gated-items.js';
import type { CompletionSpans, SplitTokenizer, TextSplit } from './completion-split.js';
import type { RewardCost } from './reward-cost.js';
import { atmanSaliency, type SweepOptions } from './sweep.js';
import type { RewardCallContext, RewardCompletion, SaliencyMap } from './types.js';

/** Options of {@link createAtmanReward}. */
export interface AtmanRewardOptions<S> {
  /** The policy; frozen (its weights at scoring time are used). */
  model: CausalLM;
  tokenizer: SplitTokenizer;
  /** The gold answer text of a sample (teacher-forced). */
  gold: (sample: S) => string;
  /** Character split of a completion's text, e.g. datasets' `splitCompletion`. */
  split: (text: string) => TextSplit;
  /** The answer delimiter (used when a completion has none). */
  delimiter: string;
  /** Sweep options (`chunkSize` default 16, `strength` default 0.9, `prefixReuse` default true). */
  sweep?: SweepOptions;
  /** Which completions count (as `createSaliencyReward`'s gate): the others get NaN and no sweep. */
  gate?: (index: number, rewards: Readonly<Record<string, readonly number[]>>) => boolean;
}

/** What the AtMan reward records per completion. */
export interface AtmanRewardInfo {
  /** The completion's token split. */
  spans: CompletionSpans;
  /** The sweep's map (relevance per CoT token, nats/token), or null when gated out. */
  map: SaliencyMap | null;
  /** Per-rollout cost of the call (forward passes only). */
  cost: RewardCost;
}

/** An AtMan reward function (a grpo `RewardFn` by structure). */
export type AtmanRewardFn<S> = (
  samples: readonly S[],
  completions: readonly RewardCompletion[],
  ctx: RewardCallContext,
) => Promise<{ values: number[]; info: AtmanRewardInfo[] }>;

/**
 * AtMan's sweep as a reward function (`RewardFn` of @atmanrl/grpo): `mean_j relevance_j` over the
 * CoT tokens of each completion (0 for an empty CoT). Identical items run once; each distinct item
 * costs `|C| + 1` forward rows (the baseline rides in the first chunk).
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';
 * import { createAtmanReward } from '@atmanrl/saliency';
 * await initBackend({ prefer: 'cpu' });
 * const tokenizer = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const model = createRandomModel(
 *   { vocab_size: TINY_VOCAB_SIZE, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1 },
 *   0,
 *   { tokenizer },
 * );
 * // the character split a task gives (e.g. @atmanrl/datasets' splitCompletion): CoT, then the answer
 * const split = (text: string) => {
 *   const at = text.indexOf(' ####');
 *   return at < 0
 *     ? { cotRange: [0, text.length] as const, answerRange: null }
 *     : { cotRange: [0, at] as const, answerRange: [at + 6, text.length] as const };
 * };
 * const text = '2+3=5. 5*2=10. #### 10';
 * const completions = [{ text, tokenIds: tokenizer.encode(text, { addSpecialTokens: false }) }];
 * const promptIds = [tokenizer.encode('Q: (2+3)*2=? A:')];
 * const atman = createAtmanReward({
 *   model, tokenizer, gold: (s: { gold: string }) => s.gold, split, delimiter: '####',
 * });
 * const { values, info } = await atman([{ gold: '10' }], completions, { promptIds });
 * console.log(values[0], info[0]!.cost.forwardPasses); // mean CoT relevance; |C| + 1 = 15 rows
 * model.dispose();
 * ```
 */
export function createAtmanReward<S>(options: AtmanRewardOptions<S>): AtmanRewardFn<S> {
  return async (samples, completions, ctx) => {
    const t0 = performance.now();
    const { spans, unique, slotOf } = gatedItems(options, samples, completions, ctx);
    const maps = unique.length > 0 ? await atmanSaliency(options.model, unique, options.sweep) : [];
    const rows = unique.reduce((s, it) => s + it.cotIds.length + 1, 0);
    const n = Math.max(1, completions.length);
    const cost: RewardCost = {
      forwardPasses: rows / n,
      backwardPasses: 0,
      ms: (performance.now() - t0) / n,
    };
    const values: number[] = [];
    const info = spans.map((s, i) => {
      const k = slotOf.get(i);
      if (k === undefined) {
        values.push(Number.NaN);
        return { spans: s, map: null, cost };
      }
      const map = maps[k]!;
      const r = map.relevance;
      values.push(r.length === 0 ? 0 : r.reduce((a, b) => a + b, 0) / r.length);
      return { spans: s, map, cost };
    });
    return { values, info };
  };
}
