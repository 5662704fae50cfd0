// One GRPO step as its four stages (GRPO-Zero): rollout -> rewards -> advantages -> update
// (update.ts), over one Episode record per completion. Returns TRL-named metrics, the episodes and
// the update's statistics. Leaves out data loading, checkpointing and logging (the trainer's job).
import type { CausalLM, Rng } from '@atmanrl/model';
import { type GrpoConfigInput, resolveGrpoConfig } from './config.js';
import { type Episode, episodesFromRollouts, recordAdvantages, recordRewards } from './episode.js';
import { GrpoError } from './errors.js';
import type { Logger } from './logger.js';
import { buildStepMetrics, type GrpoMetrics } from './metrics.js';
import { AdamW } from './optimizer.js';
import {
  type CombinedRewards,
  combineRewards,
  type RewardSpec,
  type ScoredCompletions,
  scoreCompletions,
} from './rewards.js';
import {
  InProcessRolloutEngine,
  type Rollout,
  type RolloutEngine,
  rolloutSampling,
} from './rollout.js';
import { type UpdateStats, updatePolicy } from './update.js';

/** Everything a step needs besides the batch. */
export interface GrpoStepOptions<S> {
  /** The model being trained; its `trainableVariables` are what `optimizer` updates. */
  policy: CausalLM;
  /** Optimiser over `policy.trainableVariables` (see {@link createOptimizer}); its `step` drives the LR schedule. */
  optimizer: AdamW;
  /** Named, weighted reward functions. */
  rewards: readonly RewardSpec<S>[];
  /** GRPO options (defaults: {@link GRPO_DEFAULTS}). */
  config?: GrpoConfigInput;
  /** Random source for sampling; advances, so saving its state resumes exactly. */
  rng: Rng;
  /** Where completions come from (default: in-process generation on `policy`). */
  engine?: RolloutEngine;
  /** Frozen reference model for the KL term; required when `beta > 0`. */
  reference?: CausalLM;
  /** Receives warnings (e.g. a reward that returned only NaN). */
  logger?: Logger;
  /**
   * Score each micro-batch's completions on its own and start the first update iteration's
   * micro-batch k as soon as its rewards are in, while later micro-batches are still being scored
   * (default false). Worth it only when rewards run off this thread (a worker pool's or remote
   * workers' mask fits): the update's forward and backward passes then fill a core the fits leave
   * idle. Each reward function is called once per micro-batch, all calls started at once in
   * episode order (so a reward's own wall-time measure includes waiting for earlier micro-batches'
   * work), with that micro-batch's whole groups; the rewards, advantages and update are the same
   * as without it when every reward (and gate) of a completion depends on its own group only.
   * Applies only where the advantages are per group: `multiObjectiveAggregation:
   * 'sum_then_normalize'`, `scaleRewards` 'group' or 'none', and micro-batches of whole groups
   * (`P·G / gradientAccumulationSteps` a multiple of G); otherwise the step scores the whole batch
   * first, as without it.
   */
  overlapRewards?: boolean;
}

/** One step's input: P samples and their tokenised prompts. */
export interface GrpoBatch<S> {
  /** P dataset samples, passed to reward functions (each repeated G times). */
  samples: readonly S[];
  /** P prompts of token ids (chat template already applied). */
  promptIds: readonly (readonly number[])[];
}

/** Result of {@link grpoStep}. */
export interface GrpoStepResult<S = unknown> {
  metrics: GrpoMetrics;
  /** P·G episodes, completion g of prompt p at index `p*G + g`, with rewards and advantages. */
  episodes: Episode<S>[];
  /** The update stage's named statistics. */
  update: UpdateStats;
}

/**
 * An {@link AdamW} over `policy.trainableVariables` with the config's `adamBeta1`, `adamBeta2`,
 * `adamEpsilon` and `weightDecay` (TRL's `adam_beta1`, `adam_beta2`, `adam_epsilon`, `weight_decay`).
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createOptimizer } from '@atmanrl/grpo';
 * import { createRandomModel } from '@atmanrl/model';
 * await initBackend({ prefer: 'cpu' });
 * const policy = createRandomModel(
 *   { vocab_size: 16, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1, eos_token_id: 15 },
 *   0,
 * );
 * // AdamW over the trainable variables with the config's adamBeta1/2, adamEpsilon and weightDecay
 * const optimizer = createOptimizer(policy, { weightDecay: 0.01 });
 * console.log(optimizer.variables.length === policy.trainableVariables.length); // true
 * optimizer.dispose();
 * policy.dispose();
 * ```
 */
export function createOptimizer(policy: CausalLM, config: GrpoConfigInput = {}): AdamW {
  const c = resolveGrpoConfig(config);
  return new AdamW(policy.trainableVariables, {
    betas: [c.adamBeta1, c.adamBeta2],
    eps: c.adamEpsilon,
    weightDecay: c.weightDecay,
  });
}

const now = (): number => performance.now();

/**
 * Run one GRPO step: sample G completions per prompt, score them, form advantages, then apply
 * `numIterations` optimiser updates, each over `gradientAccumulationSteps` micro-batches of the
 * P·G completions, reusing the sampling-time log-probs as the "old" policy.
 * @throws GrpoError `BAD_ARGUMENT` / `BAD_CONFIG` / `BAD_REWARD` for inconsistent inputs
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createOptimizer, grpoStep, type RewardSpec } from '@atmanrl/grpo';
 * import { createRandomModel, createRng } from '@atmanrl/model';
 * await initBackend({ prefer: 'cpu' });
 * const policy = createRandomModel(
 *   { vocab_size: 16, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1, eos_token_id: 15 },
 *   0,
 * );
 * const config = { numGenerations: 4, maxCompletionLength: 6, learningRate: 1e-3 };
 * const optimizer = createOptimizer(policy, config);
 * // a sample is whatever the task needs; here the token a correct completion contains
 * const rewards: RewardSpec<number>[] = [
 *   { name: 'outcome', fn: async (targets, cs) => cs.map((c, i) => (c.tokenIds.includes(targets[i]!) ? 0 : -1)) },
 * ];
 * const { metrics, episodes } = await grpoStep(
 *   { policy, optimizer, rewards, rng: createRng(0), config },
 *   { samples: [3, 5], promptIds: [[1, 2], [4]] },
 * );
 * console.log(metrics['reward'], episodes.length); // the mean outcome, 8 = 2 prompts × G
 * ```
 */
export async function grpoStep<S>(
  options: GrpoStepOptions<S>,
  batch: GrpoBatch<S>,
): Promise<GrpoStepResult<S>> {
  const cfg = resolveGrpoConfig(options.config);
  const { policy, optimizer } = options;
  const p = batch.promptIds.length;
  const g = cfg.numGenerations;
  const n = p * g;
  if (p === 0 || batch.samples.length !== p) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `batch has ${batch.samples.length} samples and ${p} prompts; expected the same non-zero count`,
    );
  }
  batch.promptIds.forEach((ids, i) => {
    if (ids.length === 0)
      throw new GrpoError(
        'BAD_ARGUMENT',
        `prompt ${i} is empty; a prompt needs at least one token (e.g. BOS)`,
      );
  });
  if (n % cfg.gradientAccumulationSteps !== 0) {
    throw new GrpoError(
      'BAD_CONFIG',
      `P·G = ${p}·${g} = ${n} completions do not split into gradientAccumulationSteps = ${cfg.gradientAccumulationSteps} equal micro-batches`,
    );
  }
  if (cfg.beta > 0 && !options.reference) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `beta = ${cfg.beta} needs a frozen reference model (options.reference)`,
    );
  }
  if (optimizer.variables.length !== policy.trainableVariables.length) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `optimizer holds ${optimizer.variables.length} variables, the policy has ${policy.trainableVariables.length} trainable ones; create it with createOptimizer(policy)`,
    );
  }
  const stepIndex = optimizer.step;
  const tStart = now();

  // 1. Rollout
  const engine = options.engine ?? new InProcessRolloutEngine(policy);
  const rollouts = await engine.generate({
    promptIds: batch.promptIds,
    numGenerations: g,
    rng: options.rng,
    ...rolloutSampling(cfg),
  });
  checkRollouts(rollouts, p, g);
  const episodes = episodesFromRollouts(rollouts, batch.samples, g);
  const tGen = now();

  // 2-4. Rewards, advantages, update: the whole batch, or one micro-batch of groups at a time
  const size = n / cfg.gradientAccumulationSteps;
  const chunked =
    options.overlapRewards === true &&
    size % g === 0 &&
    cfg.multiObjectiveAggregation === 'sum_then_normalize' &&
    cfg.scaleRewards !== 'batch';
  const ranges = chunked
    ? Array.from({ length: cfg.gradientAccumulationSteps }, (_, k) => [k * size, (k + 1) * size])
    : [[0, n]];
  let tReward = tGen;
  const combine = (raw: Readonly<Record<string, readonly number[]>>) =>
    combineRewards(options.rewards, raw, {
      groupSize: g,
      aggregation: cfg.multiObjectiveAggregation,
      scaleRewards: cfg.scaleRewards,
      epsilon: cfg.advantageEpsilon,
      ...(cfg.rewardWeights ? { rewardWeights: cfg.rewardWeights } : {}),
    });
  const scoreRange = async ([start, end]: readonly number[]): Promise<ScoredRange> => {
    const part = episodes.slice(start, end);
    const scored = await scoreCompletions(
      options.rewards,
      part.map((e) => e.sample),
      part.map((e) => ({ text: e.text, tokenIds: e.completionIds, truncated: e.truncated })),
      {
        promptIds: part.map((e) => e.promptIds),
        completionIds: part.map((e) => e.completionIds),
        groupSize: g,
        step: stepIndex,
      },
    );
    recordRewards(part, scored);
    const combined = combine(scored.raw);
    recordAdvantages(part, combined);
    tReward = now();
    return { scored, combined };
  };
  // Every range's reward calls start now, in episode order: a worker pool then queues their jobs
  // in that order and never waits between micro-batches (measured: one after the other left a
  // worker idle at the end of each micro-batch and was slower than no overlap at all).
  const pending = ranges.map(scoreRange);
  const settled = Promise.allSettled(pending); // nothing left running or unobserved
  let parts: ScoredRange[];
  let update: UpdateStats;
  try {
    const models = {
      policy,
      optimizer,
      ...(options.reference ? { reference: options.reference } : {}),
    };
    // Micro-batch k waits for its own range's rewards, or for the whole batch's.
    update = await updatePolicy(models, episodes, cfg, {
      ready: async (k) => {
        await pending[chunked ? k : 0];
      },
    });
    parts = await Promise.all(pending);
  } finally {
    await settled;
  }
  // One range: its own; micro-batches: their rewards joined and combined again (per group, so
  // the same advantages as those recorded per micro-batch).
  const scored = parts.length === 1 ? parts[0]!.scored : joinScored(parts.map((x) => x.scored));
  const combined = parts.length === 1 ? parts[0]!.combined : combine(scored.raw);
  for (const [name, values] of Object.entries(scored.raw)) {
    if (values.every(Number.isNaN))
      options.logger?.warn(`reward '${name}' returned NaN for every completion`);
  }
  const tEnd = now();

  const metrics = buildStepMetrics({
    rollouts,
    raw: scored.raw,
    combined,
    update,
    numIterations: cfg.numIterations,
    beta: cfg.beta,
    timesMs: {
      generation: tGen - tStart,
      reward: tReward - tGen,
      update: tEnd - tReward,
      total: tEnd - tStart,
      rewards: scored.timesMs,
    },
  });
  return { metrics, episodes, update };
}

/** The rewards of one range of episodes and what they combine to. */
interface ScoredRange {
  scored: ScoredCompletions;
  combined: CombinedRewards;
}

/** Consecutive ranges' rewards as one: values and info joined in order, times summed. */
function joinScored(parts: readonly ScoredCompletions[]): ScoredCompletions {
  const out: ScoredCompletions = { raw: {}, info: {}, timesMs: {} };
  for (const part of parts) {
    for (const [name, values] of Object.entries(part.raw))
      out.raw[name] = [...(out.raw[name] ?? []), ...values];
    for (const [name, info] of Object.entries(part.info))
      out.info[name] = [...(out.info[name] ?? []), ...info];
    for (const [name, ms] of Object.entries(part.timesMs))
      out.timesMs[name] = (out.timesMs[name] ?? 0) + ms;
  }
  return out;
}

function checkRollouts(rollouts: readonly Rollout[], p: number, g: number): void {
  if (rollouts.length !== p * g) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `rollout engine returned ${rollouts.length} completions for ${p} prompts × G = ${g}; expected ${p * g}`,
    );
  }
  rollouts.forEach((r, i) => {
    if (r.promptIndex !== Math.floor(i / g)) {
      throw new GrpoError(
        'BAD_ARGUMENT',
        `rollout ${i} belongs to prompt ${r.promptIndex}; engines must return completion g of prompt p at index p*G + g`,
      );
    }
    if (r.oldLogProbs && r.oldLogProbs.length !== r.completionIds.length) {
      throw new GrpoError(
        'BAD_ARGUMENT',
        `rollout ${i} has ${r.oldLogProbs.length} log-probs for ${r.completionIds.length} tokens`,
      );
    }
  });
}
