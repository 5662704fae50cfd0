// The length-penalty control (issue 29): a reward that prices every CoT token, so an experiment can
// ask whether the saliency reward does more than any brevity pressure would. It counts CoT tokens
// with the same token split as the saliency reward and eval (splitCompletionIds), so "CoT length"
// means one thing everywhere. Leaves out composition with other rewards (grpo) and gating.
//
// Formula (docs/method.md §4, "Controls"), with |C| the number of CoT tokens and w > 0:
//   with a target T:   r = -w · max(0, |C| - T) / T      (hinge: free up to T, then linear)
//   without a target:  r = -w · |C| / L                   (L = maxLength, the generation cap)
// Both are linear in |C| past the free budget (a constant price per token) and scaled so that w is
// in units of the outcome reward (0 correct, -1 wrong): without a target, a CoT that fills the
// whole completion budget costs w; with one, a CoT twice the target costs w.

import {
  type CompletionSpans,
  type SplitTokenizer,
  splitCompletionIds,
  type TextSplit,
} from './completion-split.js';
import { SaliencyError } from './errors.js';
import type { RewardCost } from './reward-cost.js';
import type { RewardCompletion } from './reward-fn.js';

/** Options of {@link createLengthPenalty}. */
export interface LengthPenaltyOptions {
  /** The weight w > 0 (the penalty of a CoT of length L without a target, or 2T with one). */
  weight: number;
  /** Free CoT budget T in tokens (> 0): no penalty up to T, linear beyond. */
  target?: number;
  /** Normaliser L in tokens when there is no target (> 0), e.g. the run's maxCompletionLength. */
  maxLength?: number;
  tokenizer: SplitTokenizer;
  /** Character split of a completion's text, e.g. datasets' `splitCompletion` with the task's kind and delimiter. */
  split: (text: string) => TextSplit;
}

/** What the length penalty records per completion. */
export interface LengthPenaltyInfo {
  /** The completion's token split (CoT tokens = `spans.cotEnd`). */
  spans: CompletionSpans;
  /** Number of CoT tokens |C|. */
  cotTokens: number;
  /** Per-rollout cost of the call (no forward or backward passes). */
  cost: RewardCost;
}

/** A length-penalty reward function (a grpo `RewardFn` by structure). */
export type LengthPenaltyFn = (
  samples: readonly unknown[],
  completions: readonly RewardCompletion[],
) => Promise<{ values: number[]; info: LengthPenaltyInfo[] }>;

/**
 * The penalty of a CoT of `cotTokens` tokens (the formula of the file header): `-w·max(0,|C|-T)/T`
 * with a target, `-w·|C|/L` without.
 * @example
 * ```ts
 * import { lengthPenalty } from '@atmanrl/saliency';
 * console.log(lengthPenalty(30, { weight: 0.5, target: 20 })); // -0.5 · 10/20 = -0.25
 * console.log(lengthPenalty(48, { weight: 0.2, maxLength: 96 })); // -0.2 · 48/96 = -0.1
 * ```
 * @throws SaliencyError `BAD_OPTION` for a weight ≤ 0, a target ≤ 0, neither target nor maxLength,
 *   `BAD_ARGUMENT` for a negative or non-integer token count
 */
export function lengthPenalty(
  cotTokens: number,
  options: Pick<LengthPenaltyOptions, 'weight' | 'target' | 'maxLength'>,
): number {
  checkLengthOptions(options);
  if (!(Number.isInteger(cotTokens) && cotTokens >= 0)) {
    throw new SaliencyError(
      'BAD_ARGUMENT',
      `lengthPenalty: cotTokens is ${cotTokens}, expected a non-negative integer`,
    );
  }
  const w = options.weight;
  if (options.target !== undefined) {
    const excess = Math.max(0, cotTokens - options.target);
    return excess === 0 ? 0 : (-w * excess) / options.target;
  }
  return cotTokens === 0 ? 0 : (-w * cotTokens) / options.maxLength!;
}

function checkLengthOptions(o: Pick<LengthPenaltyOptions, 'weight' | 'target' | 'maxLength'>) {
  const bad = (msg: string): never => {
    throw new SaliencyError('BAD_OPTION', `length penalty: ${msg}`);
  };
  if (!(typeof o.weight === 'number' && Number.isFinite(o.weight) && o.weight > 0))
    bad(`weight is ${String(o.weight)}, expected a finite number > 0`);
  if (o.target !== undefined && !(Number.isFinite(o.target) && o.target > 0))
    bad(`target is ${String(o.target)}, expected a number of tokens > 0 (or leave it out)`);
  if (o.target === undefined) {
    if (o.maxLength === undefined)
      bad('give a target (free CoT budget in tokens) or maxLength (e.g. maxCompletionLength)');
    if (!(Number.isFinite(o.maxLength) && o.maxLength! > 0))
      bad(`maxLength is ${String(o.maxLength)}, expected a number of tokens > 0`);
  }
}

/**
 * The length penalty as a reward function (`RewardFn` of @atmanrl/grpo): splits each completion
 * on its generated ids (the split of the saliency reward and eval) and returns
 * {@link lengthPenalty} of its CoT token count, with `{ spans, cotTokens, cost }` as info.
 * Needs no model: its cost is the token split alone.
 *
 * @example
 * ```ts
 * import { createTinyTokenizer } from '@atmanrl/model';
 * import { createLengthPenalty } from '@atmanrl/saliency';
 * const tokenizer = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const length = createLengthPenalty({
 *   weight: 0.2,
 *   maxLength: 96, // e.g. the run's maxCompletionLength
 *   tokenizer,
 *   // the character split a task gives (e.g. @atmanrl/datasets' splitCompletion)
 *   split: (t) => ({ cotRange: [0, t.indexOf(' ####')], answerRange: [t.length - 1, t.length] }),
 * });
 * const text = '2+2=4. #### 4';
 * const { values, info } = await length([null], [
 *   { text, tokenIds: tokenizer.encode(text, { addSpecialTokens: false }) },
 * ]);
 * console.log(info[0]!.cotTokens, values[0]); // 6 -0.0125 (= -0.2 · 6/96)
 * // as a grpo reward: rewards: [{ name: 'outcome', fn: outcome }, { name: 'length', fn: length }]
 * ```
 * @throws SaliencyError `BAD_OPTION` as {@link lengthPenalty}, when created
 */
export function createLengthPenalty(options: LengthPenaltyOptions): LengthPenaltyFn {
  checkLengthOptions(options);
  return async (_samples, completions) => {
    const t0 = performance.now();
    const spans = completions.map((comp) => {
      const text = options.tokenizer.decode([...comp.tokenIds], { skipSpecialTokens: true });
      return splitCompletionIds(options.tokenizer, comp.tokenIds, options.split(text));
    });
    const values = spans.map((s) => lengthPenalty(s.cotEnd, options));
    const ms = completions.length === 0 ? 0 : (performance.now() - t0) / completions.length;
    const cost: RewardCost = { forwardPasses: 0, backwardPasses: 0, ms };
    const info = spans.map((s) => ({ spans: s, cotTokens: s.cotEnd, cost }));
    return { values, info };
  };
}
