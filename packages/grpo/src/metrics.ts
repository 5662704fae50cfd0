// The metrics of one GRPO step under the names TRL logs, plus phase timings. Pure host-side
// arithmetic over values already read back; leaves out writing them anywhere.

import { nanMean, nanStd } from './_internal/stats.js';
import type { CombinedRewards } from './rewards.js';
import type { Rollout } from './rollout.js';
import type { UpdateStats } from './update.js';

/**
 * Metric name -> value. Always present: `reward`, `reward_std`, `frac_reward_zero_std`,
 * `rewards/<name>/mean`, `rewards/<name>/std`, `entropy`, `clip_ratio/low_mean`,
 * `clip_ratio/high_mean`, `clip_ratio/region_mean`, `completions/mean_length`,
 * `completions/min_length`, `completions/max_length`, `completions/mean_terminated_length`,
 * `completions/clipped_ratio`, `grad_norm`, `learning_rate`, `loss`, `time/generation`,
 * `time/reward`, `time/reward/<name>`, `time/update` (seconds), `tokens_per_second`; `kl` only
 * when β > 0 (as TRL).
 */
export type GrpoMetrics = Record<string, number>;

/** Inputs of {@link buildStepMetrics}. */
export interface StepMetricInputs {
  rollouts: readonly Pick<Rollout, 'completionIds' | 'truncated'>[];
  raw: Readonly<Record<string, readonly number[]>>;
  combined: CombinedRewards;
  /** The update stage's statistics. */
  update: UpdateStats;
  numIterations: number;
  beta: number;
  timesMs: {
    generation: number;
    reward: number;
    update: number;
    total: number;
    /** Per reward function, by name. */
    rewards?: Readonly<Record<string, number>>;
  };
}

const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Aggregate a step's numbers as TRL does: token-level statistics are per micro-batch masked means,
 * averaged over micro-batches and iterations; `loss` is the accumulated (summed) micro-batch loss
 * of an update, averaged over the μ updates; `grad_norm` is averaged over the μ updates;
 * `tokens_per_second` counts generated completion tokens over the whole step's wall time.
 * @example
 * ```ts
 * import { buildStepMetrics, combineRewards, type RewardSpec } from '@atmanrl/grpo';
 * const specs: RewardSpec[] = [{ name: 'outcome', fn: async (_s, cs) => cs.map(() => 0) }];
 * const raw = { outcome: [1, 0, 0, 0] };
 * const metrics = buildStepMetrics({
 *   rollouts: [[3, 15], [4], [5, 6, 15], [7, 7]].map((completionIds, i) => ({ completionIds, truncated: i === 3 })),
 *   raw,
 *   combined: combineRewards(specs, raw, { groupSize: 2 }),
 *   update: { microBatches: [], gradNorms: [0.5], learningRates: [1e-6] },
 *   numIterations: 1,
 *   beta: 0,
 *   timesMs: { generation: 120, reward: 5, update: 40, total: 170 },
 * });
 * console.log(metrics['reward'], metrics['completions/mean_length']); // 0.25 2
 * ```
 */
export function buildStepMetrics(x: StepMetricInputs): GrpoMetrics {
  const lengths = x.rollouts.map((r) => r.completionIds.length);
  const terminated = x.rollouts.filter((r) => !r.truncated).map((r) => r.completionIds.length);
  const out: GrpoMetrics = {};
  for (const [name, values] of Object.entries(x.raw)) {
    out[`rewards/${name}/mean`] = nanMean(values);
    out[`rewards/${name}/std`] = nanStd(values);
  }
  out['reward'] = mean(x.combined.groupMean);
  out['reward_std'] = mean(x.combined.std);
  out['frac_reward_zero_std'] = mean(x.combined.isStdZero.map((z) => (z ? 1 : 0)));
  const mbs = x.update.microBatches;
  const perUpdate = mbs.length / Math.max(1, x.numIterations);
  out['loss'] = mean(mbs.map((m) => m.loss)) * perUpdate;
  out['clip_ratio/low_mean'] = mean(mbs.map((m) => m.clipLow));
  out['clip_ratio/high_mean'] = mean(mbs.map((m) => m.clipHigh));
  out['clip_ratio/region_mean'] = mean(mbs.map((m) => m.clipRegion));
  if (x.beta > 0) out['kl'] = mean(mbs.map((m) => m.kl));
  out['entropy'] = mean(mbs.map((m) => m.entropy));
  out['completions/mean_length'] = mean(lengths);
  out['completions/min_length'] = lengths.length ? Math.min(...lengths) : 0;
  out['completions/max_length'] = lengths.length ? Math.max(...lengths) : 0;
  out['completions/mean_terminated_length'] = mean(terminated);
  out['completions/clipped_ratio'] = lengths.length ? 1 - terminated.length / lengths.length : 0;
  out['grad_norm'] = mean(x.update.gradNorms);
  out['learning_rate'] = x.update.learningRates.at(-1) ?? 0;
  out['time/generation'] = x.timesMs.generation / 1000;
  out['time/reward'] = x.timesMs.reward / 1000;
  for (const [name, ms] of Object.entries(x.timesMs.rewards ?? {}))
    out[`time/reward/${name}`] = ms / 1000;
  out['time/update'] = x.timesMs.update / 1000;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  out['tokens_per_second'] = x.timesMs.total > 0 ? tokens / (x.timesMs.total / 1000) : 0;
  return out;
}
