// AtManRL's saliency reward as a reward function that @atmanrl/grpo accepts as is: split each
// completion into CoT / delimiter / answer tokens, fit one mask per completion on the frozen
// policy (method.md §2), and map H to a reward (§3). What it learned, and what it cost
// (`RewardCost`, as the control rewards report it), travels back as info.
// Leaves out reward composition and gating arithmetic (grpo) and the outcome reward (datasets).
import type { CausalLM } from '@atmanrl/model';
import { gatedItems } from './_internal/gated-items.js';
import type { CompletionSpans, SplitTokenizer, TextSplit } from './completion-split.js';
import { type FitSaliencyOptions, fitSaliencyMasks } from './fit.js';
import { FIT_PRESETS } from './fit-presets.js';
import { type SaliencyRewardDirection, saliencyReward } from './reward.js';
import type { RewardCost } from './reward-cost.js';
import type { MaskFitResult, RewardCallContext, RewardCompletion, SaliencyItem } from './types.js';

export type { RewardCallContext, RewardCompletion } from './types.js';

/** What the saliency reward learned about one completion. */
export interface SaliencyRewardInfo {
  /** The completion's token split (the one split the sample log and the viewer use). */
  spans: CompletionSpans;
  /** The fitted mask, or null when the gate skipped the completion. */
  fit: MaskFitResult | null;
  /**
   * Per-rollout cost of the call (shared by every completion of the call): per distinct fitted
   * item, 2 + steps forward passes (one per AdamW step, whose first gives the CE under the
   * initial mask, plus the CE without mask and under the fitted mask; 3 when no step ran; 2
   * fewer with the fit's `diagnostics: false`) and `steps` backward passes, summed and divided by
   * the completions.
   */
  cost: RewardCost;
}

/** A saliency reward function: values (NaN where gated out) and one info record per completion. */
export type SaliencyRewardFn<S> = (
  samples: readonly S[],
  completions: readonly RewardCompletion[],
  ctx: RewardCallContext,
) => Promise<{ values: number[]; info: SaliencyRewardInfo[] }>;

/** Options of {@link createSaliencyReward}. */
export interface SaliencyRewardFnOptions<S> {
  /** The policy; frozen during the fit (its weights at scoring time are used). */
  model: CausalLM;
  tokenizer: SplitTokenizer;
  /** The gold answer text of a sample (it replaces the model's answer, method.md §2.1). */
  gold: (sample: S) => string;
  /** Character split of a completion's text, e.g. datasets' `splitCompletion` with the task's kind and delimiter. */
  split: (text: string) => TextSplit;
  /** The answer delimiter (used when a completion has none). */
  delimiter: string;
  /** `'reliance'` (default, `1 - H/c`) or `'paper-literal'` (`H/c`), method.md §3. */
  direction?: SaliencyRewardDirection;
  /**
   * Which completions count (method.md §4 `gate`): the others get no fit and the value NaN, which
   * grpo counts as 0 in the total, exactly as a closed gate. It sees the raw rewards computed
   * before this one, e.g. `(i, r) => r['outcome']?.[i] === 0` for `'correct-only'`.
   */
  gate?: (index: number, rewards: Readonly<Record<string, readonly number[]>>) => boolean;
  /**
   * Mask-fit options; `init` is also the reward's c. Default: `FIT_PRESETS.fast` (7 AdamW steps at
   * lr 0.2/7, β1 = 0), which agrees with the paper's 200-step fit at Spearman ≥ 0.9 on H and on the
   * per-token relevance (method.md §2). Given, it replaces the preset: unset fields take
   * `fitSaliencyMasks`' defaults, the paper's fit (`FIT_PRESETS.paper`).
   */
  fit?: FitSaliencyOptions;
  /** Runs the fits (default `fitSaliencyMasks(model, items, options)`); a worker pool plugs in here. */
  fitMasks?: (
    items: readonly SaliencyItem[],
    options: FitSaliencyOptions,
  ) => Promise<MaskFitResult[]>;
}

/**
 * The AtManRL saliency reward as a reward function (`RewardFn` of @atmanrl/grpo).
 *
 * Completions whose fit items are identical (same prompt, CoT, delimiter and gold ids, common in
 * a GRPO group) are fitted once and share one {@link MaskFitResult} object.
 *
 * @example
 * const saliency = createSaliencyReward({ model, tokenizer, gold: (s) => s.gold,
 *   split: (t) => splitCompletion(t, { kind: 'number' }), delimiter: '####' });
 * // rewards: [{ name: 'outcome', fn: outcome }, { name: 'saliency', fn: saliency }]
 */
export function createSaliencyReward<S>(options: SaliencyRewardFnOptions<S>): SaliencyRewardFn<S> {
  const fitOptions: FitSaliencyOptions = options.fit ?? { ...FIT_PRESETS.fast };
  const c = fitOptions.init ?? -0.4;
  const fitMasks =
    options.fitMasks ??
    ((items: readonly SaliencyItem[], o: FitSaliencyOptions) =>
      fitSaliencyMasks(options.model, items, o));
  return async (samples, completions, ctx) => {
    const t0 = performance.now();
    // Identical items (GRPO groups repeat short completions often) are fitted once and share the
    // result: items are independent, so this is exact. They come shortest CoT first, so batches a
    // pool cuts from them in order pad little (a group's CoTs differ much in length).
    const { spans, unique, slotOf } = gatedItems(options, samples, completions, ctx);
    const fits = unique.length > 0 ? await fitMasks(unique, fitOptions) : [];
    const n = Math.max(1, completions.length);
    const steps = fits.reduce((sum, f) => sum + f.steps, 0);
    // Forward-only passes: the two diagnostic CEs (unless diagnostics: false), and the CE under
    // the initial mask when no step gave it.
    const diagnostics = fitOptions.diagnostics === false ? 0 : 2;
    const evaluations = fits.reduce((sum, f) => sum + diagnostics + (f.steps > 0 ? 0 : 1), 0);
    const cost: RewardCost = {
      forwardPasses: (evaluations + steps) / n,
      backwardPasses: steps / n,
      ms: (performance.now() - t0) / n,
    };
    const info = spans.map((s, i) => {
      const slot = slotOf.get(i);
      return { spans: s, fit: slot === undefined ? null : fits[slot]!, cost };
    });
    const values = info.map((x) =>
      x.fit === null
        ? Number.NaN
        : saliencyReward(x.fit.h, {
            c,
            ...(options.direction ? { direction: options.direction } : {}),
          }),
    );
    return { values, info };
  };
}
