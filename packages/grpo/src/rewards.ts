// Pluggable rewards: named async functions with weights, an optional gate per function, and the
// two ways TRL combines several rewards into one advantage. Leaves out any concrete reward
// (the trainer plugs in correctness and the saliency reward; this package never imports saliency).

import { nanMean, nanStd } from './_internal/stats.js';
import { type AdvantageResult, groupAdvantages } from './advantages.js';
import type { MultiObjectiveAggregation, ScaleRewards } from './config.js';
import { GrpoError } from './errors.js';

/** What a reward function sees of one completion. */
export interface CompletionView {
  /** Decoded completion ('' when the model has no tokenizer). */
  text: string;
  /** Generated token ids (EOS included when produced). */
  tokenIds: readonly number[];
  /** True when `maxCompletionLength` was hit without EOS or a stop string. */
  truncated: boolean;
}

/** Per-completion context, aligned with the `completions` array (e.g. for the saliency reward). */
export interface RewardContext {
  /** `[B][Tp]` prompt ids of each completion (repeated G times per prompt). */
  promptIds: readonly (readonly number[])[];
  /** `[B][Tc]` completion ids. */
  completionIds: readonly (readonly number[])[];
  /** G: completions `[g*G, (g+1)*G)` share a prompt. */
  groupSize: number;
  /** Index of the optimiser step this batch is for (0-based). */
  step: number;
  /**
   * Raw rewards of the functions that ran before this one, by name (functions run in spec order),
   * so that a gated reward can skip work its gate would discard (e.g. a mask fit of a wrong answer).
   */
  rewards: Readonly<Record<string, readonly number[]>>;
}

/**
 * What a reward function returns: one number per completion, or those numbers with one info
 * record per completion (what the reward learned, e.g. the saliency reward's fitted mask), which
 * travels on the {@link Episode} to the sample log.
 */
export type RewardOutput = number[] | { values: number[]; info?: readonly unknown[] };

/**
 * A reward function: one number per completion (`NaN` = not applicable; it counts as 0 in the
 * sum and is left out of the logged mean/std, as TRL does with `None`). `samples[i]` is the
 * dataset sample of completion i (each sample repeated G times).
 */
export type RewardFn<S = unknown> = (
  samples: readonly S[],
  completions: readonly CompletionView[],
  ctx: RewardContext,
) => Promise<RewardOutput>;

/** Result of {@link scoreCompletions}. */
export interface ScoredCompletions {
  /** Raw rewards by function name, each `[B]`. */
  raw: Record<string, number[]>;
  /** Per-completion info records by function name (only for functions that returned info). */
  info: Record<string, unknown[]>;
  /** Wall time of each function in milliseconds, by name. */
  timesMs: Record<string, number>;
}

/**
 * Decides, per completion, whether a reward counts in the total (e.g. shaping only for correct
 * completions). `raw` holds every function's raw rewards by name.
 */
export type RewardGate = (
  index: number,
  raw: Readonly<Record<string, readonly number[]>>,
) => boolean;

/** A named, weighted reward function (logged as `rewards/<name>/mean` and `/std`). */
export interface RewardSpec<S = unknown> {
  /** Unique name, used in metrics and records. */
  name: string;
  fn: RewardFn<S>;
  /** Weight in the total (default 1; `rewardWeights` in the config overrides it). */
  weight?: number;
  /** When given and false for completion i, this reward contributes 0 to i's total. */
  gate?: RewardGate;
}

/**
 * Gate helper: count a reward only where reward `name` satisfies `predicate`, e.g.
 * `whenReward('outcome', (r) => r === 0)` for method.md's `gate: 'correct-only'` with r_out ∈ {0,-1}.
 * @example
 * ```ts
 * import { type RewardSpec, whenReward } from '@atmanrl/grpo';
 * const brevity: RewardSpec = {
 *   name: 'brevity',
 *   fn: async (_samples, completions) => completions.map((c) => 1 / (1 + c.tokenIds.length)),
 *   gate: whenReward('outcome', (r) => r === 0), // only for completions whose 'outcome' reward was 0
 * };
 * ```
 */
export function whenReward(name: string, predicate: (reward: number) => boolean): RewardGate {
  return (index, raw) => {
    const values = raw[name];
    if (!values) {
      throw new GrpoError(
        'BAD_REWARD',
        `gate refers to reward '${name}', which is not among the reward functions`,
      );
    }
    return predicate(values[index]!);
  };
}

/**
 * Run every reward function in spec order (sequentially: a reward may itself run the model; each
 * sees the raw rewards of those before it in `ctx.rewards`) and validate its output.
 * @param ctx the context without `rewards` (filled in here)
 * @throws GrpoError `BAD_REWARD` on a duplicate name, a wrong length, a non-number or wrong info
 * @example
 * ```ts
 * import { type RewardSpec, scoreCompletions } from '@atmanrl/grpo';
 * const specs: RewardSpec<string>[] = [
 *   { name: 'exact', fn: async (samples, cs) => cs.map((c, i) => (c.text.trim() === samples[i] ? 1 : 0)) },
 *   // a later function sees the raw rewards of the earlier ones, to skip work a gate would discard
 *   { name: 'short', fn: async (_s, cs, ctx) => cs.map((c, i) => (ctx.rewards['exact']![i] === 1 ? 1 / c.tokenIds.length : Number.NaN)) },
 * ];
 * const completions = [
 *   { text: ' 4', tokenIds: [52, 15], truncated: false },
 *   { text: '5', tokenIds: [53], truncated: false },
 * ];
 * const ctx = { promptIds: [[1], [1]], completionIds: completions.map((c) => c.tokenIds), groupSize: 2, step: 0 };
 * const scored = await scoreCompletions(specs, ['4', '4'], completions, ctx);
 * console.log(scored.raw); // { exact: [1, 0], short: [0.5, NaN] } (NaN: not applicable)
 * ```
 */
export async function scoreCompletions<S>(
  specs: readonly RewardSpec<S>[],
  samples: readonly S[],
  completions: readonly CompletionView[],
  ctx: Omit<RewardContext, 'rewards'>,
): Promise<ScoredCompletions> {
  if (specs.length === 0)
    throw new GrpoError('BAD_REWARD', 'no reward functions given; pass at least one RewardSpec');
  const out: ScoredCompletions = { raw: {}, info: {}, timesMs: {} };
  for (const spec of specs) {
    if (spec.name in out.raw)
      throw new GrpoError(
        'BAD_REWARD',
        `two reward functions are named '${spec.name}'; names must be unique`,
      );
    const t0 = performance.now();
    const result = await spec.fn(samples, completions, { ...ctx, rewards: out.raw });
    out.timesMs[spec.name] = performance.now() - t0;
    const values = Array.isArray(result) ? result : result?.values;
    if (!Array.isArray(values) || values.length !== completions.length) {
      throw new GrpoError(
        'BAD_REWARD',
        `reward '${spec.name}' returned ${Array.isArray(values) ? values.length : typeof values} values for ${completions.length} completions; return one number per completion`,
      );
    }
    values.forEach((v, i) => {
      if (
        typeof v !== 'number' ||
        v === Number.POSITIVE_INFINITY ||
        v === Number.NEGATIVE_INFINITY
      ) {
        throw new GrpoError(
          'BAD_REWARD',
          `reward '${spec.name}' returned ${String(v)} for completion ${i}; expected a finite number or NaN`,
        );
      }
    });
    out.raw[spec.name] = values.slice();
    const info = Array.isArray(result) ? undefined : result.info;
    if (info !== undefined) {
      if (!Array.isArray(info) || info.length !== completions.length) {
        throw new GrpoError(
          'BAD_REWARD',
          `reward '${spec.name}' returned ${Array.isArray(info) ? info.length : typeof info} info records for ${completions.length} completions; return one per completion (or none)`,
        );
      }
      out.info[spec.name] = info.slice();
    }
  }
  return out;
}

/** Options of {@link combineRewards}. */
export interface CombineOptions {
  groupSize: number;
  /** Default 'sum_then_normalize'. */
  aggregation?: MultiObjectiveAggregation;
  /** Default 'group'. */
  scaleRewards?: ScaleRewards;
  /** Default 1e-4. */
  epsilon?: number;
  /** Per function weight, overriding `spec.weight`. */
  rewardWeights?: readonly number[];
}

/** The combined rewards and advantages. */
export interface CombinedRewards extends AdvantageResult {
  /** `[B]` total reward (weighted, gated sum of raw rewards; for normalize_then_sum of normalised ones). */
  total: number[];
  /** Name -> `[B]` what each function contributed to `total` (after gate and weight). */
  contributions: Record<string, number[]>;
}

/**
 * Gate, weight and combine raw rewards, then form advantages.
 * - `sum_then_normalize` (TRL default): `total_i = Σ_k w_k·gate_k(i)·r_k,i`, then
 *   {@link groupAdvantages} with `scaleRewards`.
 * - `normalize_then_sum` (GDPO): each gated reward is group-normalised
 *   `(r - mean_G)/(std_G + eps)`, weighted and summed; the sum is then normalised over the whole
 *   batch `(t - mean_B)/(std_B + eps)` to give the advantage.
 * @throws GrpoError `BAD_REWARD` when `rewardWeights` has the wrong length
 * @example
 * ```ts
 * import { combineRewards, type RewardSpec } from '@atmanrl/grpo';
 * const specs: RewardSpec[] = [
 *   { name: 'outcome', fn: async (_s, cs) => cs.map(() => 0) },
 *   { name: 'saliency', fn: async (_s, cs) => cs.map(() => 0), weight: 0.5 },
 * ];
 * const raw = { outcome: [0, -1, 0, 0], saliency: [0.2, Number.NaN, 0.4, 0.1] };
 * const { total, advantages } = combineRewards(specs, raw, { groupSize: 2 });
 * console.log(total); // [0.1, -1, 0.2, 0.05]: weighted sum, NaN (not applicable) counts as 0
 * console.log(advantages.length); // 4, centred within each group of 2
 * ```
 */
export function combineRewards<S>(
  specs: readonly RewardSpec<S>[],
  raw: Readonly<Record<string, readonly number[]>>,
  options: CombineOptions,
): CombinedRewards {
  const g = options.groupSize;
  const eps = options.epsilon ?? 1e-4;
  const aggregation = options.aggregation ?? 'sum_then_normalize';
  if (options.rewardWeights && options.rewardWeights.length !== specs.length) {
    throw new GrpoError(
      'BAD_REWARD',
      `rewardWeights has ${options.rewardWeights.length} entries for ${specs.length} reward functions; give one weight per function`,
    );
  }
  const b = raw[specs[0]?.name ?? '']?.length ?? 0;
  const total = new Array<number>(b).fill(0);
  const contributions: Record<string, number[]> = {};
  specs.forEach((spec, k) => {
    const w = options.rewardWeights?.[k] ?? spec.weight ?? 1;
    const values = raw[spec.name];
    if (!values) throw new GrpoError('BAD_REWARD', `no raw rewards for '${spec.name}'`);
    // gated value: NaN counts as 0 (TRL nansum), a closed gate as 0
    let gated = values.map((r, i) => (spec.gate && !spec.gate(i, raw) ? 0 : r));
    if (aggregation === 'normalize_then_sum') {
      gated = gated.map((r, i) => {
        const start = i - (i % g);
        const group = gated.slice(start, start + g);
        return (r - nanMean(group)) / (nanStd(group) + eps);
      });
    }
    const contribution = gated.map((r) => (Number.isNaN(r) ? 0 : w * r));
    contributions[spec.name] = contribution;
    contribution.forEach((c, i) => {
      total[i]! += c;
    });
  });
  if (aggregation === 'normalize_then_sum') {
    const grouped = groupAdvantages(total, { groupSize: g, scaleRewards: 'none' });
    const m = nanMean(total);
    const s = nanStd(total);
    return {
      ...grouped,
      advantages: total.map((t) => (t - m) / (s + eps)),
      total,
      contributions,
    };
  }
  const adv = groupAdvantages(total, {
    groupSize: g,
    scaleRewards: options.scaleRewards ?? 'group',
    epsilon: eps,
  });
  return { ...adv, total, contributions };
}
