// The update stage of GRPO: μ = numIterations optimiser updates over the step's episodes, each
// accumulating the clipped policy loss of `gradientAccumulationSteps` equal micro-batches (each
// optionally packed into passes under a token budget), with the sampling-time log-probs as the
// "old" policy. Refuses to apply a non-finite update. Leaves out rollouts and rewards (step.ts).
import { type CausalLM, packByTokens } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { completionLogProbs, paddedCompletionLength } from './_internal/token-log-probs.js';
import type { GrpoConfig } from './config.js';
import type { Episode } from './episode.js';
import { GrpoError } from './errors.js';
import { type PolicyLossOptions, policyLoss, policyLossStats } from './loss.js';
import { type AdamW, clipByGlobalNorm, GradientAccumulator } from './optimizer.js';
import { learningRateAt } from './schedule.js';

/** What {@link updatePolicy} needs of an episode. */
export type UpdateEpisode = Pick<
  Episode,
  'promptIds' | 'completionIds' | 'oldLogProbs' | 'advantage' | 'truncated'
>;

/** Models and optimiser of the update. */
export interface UpdateModels {
  /** The model being trained; `optimizer` holds its trainable variables. */
  policy: CausalLM;
  optimizer: AdamW;
  /** Frozen reference for the KL term; required when `beta > 0`. */
  reference?: CausalLM;
}

/** Options of {@link updatePolicy}. */
export interface UpdateOptions {
  /**
   * Awaited before micro-batch k (0-based, episode order) of the first iteration is prepared:
   * resolve it once the advantages of that micro-batch's episodes are set, so the first
   * iteration's forward and backward passes run while later rewards are still being computed
   * (`grpoStep` with `overlapRewards`). A rejection ends the update with that error.
   */
  ready?: (microBatch: number) => Promise<void>;
}

/**
 * Statistics of one micro-batch of one update (token means are over its active tokens). With
 * `maxTokensPerMicroBatch` a micro-batch runs as several passes; its record combines them (loss
 * and tokens summed, means weighted by active tokens), so it is the record of the unsplit pass.
 */
export interface MicroBatchStats {
  /** 0-based update (iteration) index within the step. */
  iteration: number;
  /** This micro-batch's share of the accumulated loss. */
  loss: number;
  /** Fraction of tokens clipped below (ratio < 1-ε with A < 0), above, and either. */
  clipLow: number;
  clipHigh: number;
  clipRegion: number;
  /** Mean k3 KL to the reference (0 without one). */
  kl: number;
  /** Active (unmasked) completion tokens. */
  activeTokens: number;
  /** Mean entropy of the next-token distribution over active tokens. */
  entropy: number;
}

/** Result of {@link updatePolicy}. */
export interface UpdateStats {
  /** One record per (iteration, micro-batch), iterations in order. */
  microBatches: MicroBatchStats[];
  /** Pre-clipping global gradient norm of each update. */
  gradNorms: number[];
  /** Learning rate each update used. */
  learningRates: number[];
}

/** Fixed tensors of one forward/backward pass (kept across the μ iterations). */
interface Pass {
  promptIds: number[][];
  completionIds: number[][];
  oldLogProbs: tf.Tensor2D; // [b,Tc]
  refLogProbs?: tf.Tensor2D; // [b,Tc]
  advantages: tf.Tensor1D; // [b]
  mask: tf.Tensor2D; // [b,Tc]
}

/** One micro-batch: one pass, or its token-budget parts with the micro-batch's normalisers. */
interface MicroBatch {
  passes: Pass[];
  lossOptions: PolicyLossOptions;
}

const STATS = 7; // loss, clipLow, clipHigh, clipRegion, kl, activeTokens, entropy

/**
 * Learning rate of optimiser update `update` (0-based). The schedule is counted in optimiser
 * updates: a run of `maxSteps` GRPO steps applies `maxSteps · numIterations` of them, so a linear
 * decay reaches 0 at the end of the run whatever μ is; `warmupSteps` counts updates too.
 * @example
 * ```ts
 * import { resolveGrpoConfig, updateLearningRate } from '@atmanrl/grpo';
 * const cfg = resolveGrpoConfig({ learningRate: 1e-5, lrSchedulerType: 'linear', maxSteps: 10, numIterations: 2 });
 * console.log(updateLearningRate(10, cfg)); // 5e-6: update 10 of 10 · 2 = 20 optimiser updates
 * ```
 */
export function updateLearningRate(update: number, cfg: GrpoConfig): number {
  return learningRateAt(update, {
    ...cfg,
    ...(cfg.maxSteps === undefined ? {} : { maxSteps: cfg.maxSteps * cfg.numIterations }),
  });
}

/**
 * Apply the step's `numIterations` updates to `models.policy`.
 *
 * Each update sums the gradients of the clipped loss over the micro-batches (episode order,
 * `gradientAccumulationSteps` equal parts), clips the global norm, and applies AdamW. With
 * `maxTokensPerMicroBatch`, a micro-batch runs as passes of at most that many padded tokens
 * (longest completions first; one that alone exceeds the budget gets its own pass) with the
 * micro-batch's own loss normalisers, so the sum is the same gradient up to float rounding. Before
 * applying, the update's gradient norm and loss are read back; if either is not finite the update
 * is not applied and `GrpoError('NON_FINITE')` is thrown (updates of earlier iterations of this
 * step stay applied: stop the run and resume from the last checkpoint).
 *
 * @throws GrpoError `BAD_CONFIG` when the episodes do not split into equal micro-batches,
 *   `BAD_ARGUMENT` for a missing reference with β > 0, `NON_FINITE` as above
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createOptimizer, resolveGrpoConfig, updatePolicy } from '@atmanrl/grpo';
 * import { createRandomModel } from '@atmanrl/model';
 * await initBackend({ prefer: 'cpu' });
 * const policy = createRandomModel(
 *   { vocab_size: 16, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1, eos_token_id: 15 },
 *   0,
 * );
 * const cfg = resolveGrpoConfig({ numGenerations: 2, learningRate: 1e-3 });
 * const optimizer = createOptimizer(policy, cfg);
 * // two completions of one prompt; oldLogProbs null: recomputed under the policy before updating
 * const episodes = [
 *   { promptIds: [1, 2], completionIds: [5, 15], oldLogProbs: null, advantage: 0.7, truncated: false },
 *   { promptIds: [1, 2], completionIds: [7, 8], oldLogProbs: null, advantage: -0.7, truncated: true },
 * ];
 * const stats = await updatePolicy({ policy, optimizer }, episodes, cfg);
 * console.log(stats.gradNorms.length, stats.microBatches[0]!.activeTokens); // 1 4
 * optimizer.dispose();
 * policy.dispose();
 * ```
 */
export async function updatePolicy(
  models: UpdateModels,
  episodes: readonly UpdateEpisode[],
  cfg: GrpoConfig,
  options: UpdateOptions = {},
): Promise<UpdateStats> {
  const { policy, optimizer } = models;
  const n = episodes.length;
  if (n === 0 || n % cfg.gradientAccumulationSteps !== 0) {
    throw new GrpoError(
      'BAD_CONFIG',
      `${n} completions do not split into gradientAccumulationSteps = ${cfg.gradientAccumulationSteps} equal, non-empty micro-batches`,
    );
  }
  if (cfg.beta > 0 && !models.reference) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `beta = ${cfg.beta} needs a frozen reference model (options.reference)`,
    );
  }
  const rowActive = episodes.map((e) => (cfg.maskTruncatedCompletions && e.truncated ? 0 : 1));
  const lossOptions: PolicyLossOptions = {
    lossType: cfg.lossType,
    epsilon: cfg.epsilon,
    ...(cfg.epsilonHigh !== undefined ? { epsilonHigh: cfg.epsilonHigh } : {}),
    beta: cfg.beta,
    maxCompletionLength: cfg.maxCompletionLength,
    numItemsInBatch: episodes.reduce((s, e, i) => s + e.completionIds.length * rowActive[i]!, 0),
    gradientAccumulationSteps: cfg.gradientAccumulationSteps,
    // TRL's loss options; only set when not the default so the default path is unchanged
    ...(cfg.importanceSamplingLevel === 'sequence' ? { importanceSamplingLevel: 'sequence' } : {}),
    ...(cfg.delta !== null && cfg.delta !== undefined ? { delta: cfg.delta } : {}),
    ...(cfg.topEntropyQuantile !== undefined && cfg.topEntropyQuantile < 1
      ? { topEntropyQuantile: cfg.topEntropyQuantile }
      : {}),
  };
  const micro: MicroBatch[] = [];
  const accumulator = new GradientAccumulator();
  const stats: UpdateStats = { microBatches: [], gradNorms: [], learningRates: [] };
  // GSPO's clip statistics are means over sequences (policyLossStats), the others over tokens
  const perSequenceStats = lossOptions.importanceSamplingLevel === 'sequence';
  try {
    const size = n / cfg.gradientAccumulationSteps;
    const vars = optimizer.variables as tf.Variable[];
    for (let it = 0; it < cfg.numIterations; it++) {
      const rows: tf.Tensor[] = [];
      try {
        for (let k = 0; k < cfg.gradientAccumulationSteps; k++) {
          if (micro.length === k) {
            // First iteration: prepare micro-batch k once its advantages are in (options.ready);
            // the policy is still the rollout policy here, so recomputed old log-probs are too.
            await options.ready?.(k);
            const start = k * size;
            micro.push(
              prepareMicroBatch(
                models,
                cfg,
                episodes.slice(start, start + size),
                rowActive.slice(start, start + size),
                lossOptions,
              ),
            );
          }
          const mb = micro[k]!;
          for (const pass of mb.passes) {
            const { grads, row } = passGradients(policy, vars, pass, cfg, mb.lossOptions);
            rows.push(row);
            accumulator.add(grads);
            tf.dispose(grads);
          }
        }
        const sums = accumulator.take();
        const { grads: clipped, norm } = clipByGlobalNorm(sums, cfg.maxGradNorm);
        tf.dispose(sums);
        try {
          // One host read per update: the gradient norm and every pass's statistics.
          const flat = tf.tidy(() => tf.concat([tf.reshape(norm, [1]), ...rows]));
          const values = await flat.data();
          flat.dispose();
          const gradNorm = values[0]!;
          let loss = 0;
          let at = 1;
          for (const mb of micro) {
            const passRows = mb.passes.map((p) => {
              const r = values.subarray(at, at + STATS);
              at += STATS;
              return { row: r, rows: p.promptIds.length };
            });
            const r = combinePassStats(passRows, perSequenceStats);
            loss += r[0]!;
            stats.microBatches.push({
              iteration: it,
              loss: r[0]!,
              clipLow: r[1]!,
              clipHigh: r[2]!,
              clipRegion: r[3]!,
              kl: r[4]!,
              activeTokens: r[5]!,
              entropy: r[6]!,
            });
          }
          if (!Number.isFinite(gradNorm) || !Number.isFinite(loss)) {
            throw new GrpoError(
              'NON_FINITE',
              `update ${it + 1} of ${cfg.numIterations}: the ${Number.isFinite(gradNorm) ? `loss is ${loss}` : `gradient norm is ${gradNorm}`} (not finite); the update was not applied. Lower learningRate, set maxGradNorm, or check the rewards and the model weights.`,
            );
          }
          const lr = updateLearningRate(optimizer.step, cfg);
          optimizer.applyGradients(clipped, lr);
          stats.gradNorms.push(gradNorm);
          stats.learningRates.push(lr);
        } finally {
          tf.dispose([...clipped, norm]);
        }
      } finally {
        tf.dispose(rows);
      }
    }
    return stats;
  } finally {
    accumulator.dispose();
    for (const mb of micro) {
      for (const p of mb.passes) {
        tf.dispose([p.oldLogProbs, p.advantages, p.mask]);
        p.refLogProbs?.dispose();
      }
    }
  }
}

/**
 * The `[7]` statistics row of a micro-batch from those of its passes: one pass as is; several
 * summed (loss, active tokens) or weighted (clip fractions, KL, entropy by active tokens; GSPO's
 * per-sequence clip fractions by rows), which is exactly the row of the unsplit pass.
 */
function combinePassStats(
  passes: readonly { row: ArrayLike<number>; rows: number }[],
  perSequenceStats: boolean,
): ArrayLike<number> {
  if (passes.length === 1) return passes[0]!.row;
  const tokens = passes.reduce((s, p) => s + p.row[5]!, 0);
  const rows = passes.reduce((s, p) => s + p.rows, 0);
  const weighted = (k: number, bySequence: boolean): number =>
    passes.reduce((s, p) => s + p.row[k]! * (bySequence ? p.rows : p.row[5]!), 0) /
    (bySequence ? rows : Math.max(tokens, 1));
  return [
    passes.reduce((s, p) => s + p.row[0]!, 0),
    weighted(1, perSequenceStats),
    weighted(2, perSequenceStats),
    weighted(3, perSequenceStats),
    weighted(4, false),
    tokens,
    weighted(6, false),
  ];
}

/** Gradients of one pass's loss, and its statistics row `[7]` (kept; caller disposes). */
function passGradients(
  policy: CausalLM,
  vars: tf.Variable[],
  mb: Pass,
  cfg: GrpoConfig,
  lossOptions: PolicyLossOptions,
): { grads: tf.Tensor[]; row: tf.Tensor } {
  let row: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const lp = completionLogProbs(policy, mb.promptIds, mb.completionIds, cfg.temperature);
    const inputs = {
      logProbs: lp.logProbs,
      oldLogProbs: mb.oldLogProbs,
      advantages: mb.advantages,
      mask: mb.mask,
      ...(mb.refLogProbs ? { refLogProbs: mb.refLogProbs } : {}),
      // same forward pass; the high-entropy mask (topEntropyQuantile < 1) is per micro-batch
      entropy: lp.entropy,
    };
    const loss = policyLoss(inputs, lossOptions);
    row = tf.keep(
      tf.concat([
        tf.reshape(loss, [1]),
        policyLossStats(inputs, lossOptions), // clipLow, clipHigh, clipRegion, kl, activeTokens
        tf.reshape(
          tf.div(tf.sum(tf.mul(lp.entropy, mb.mask)), tf.maximum(tf.sum(mb.mask), 1)),
          [1],
        ),
      ]),
    ); // [7]
    return loss;
  }, vars);
  value.dispose();
  // variableGrads returns gradients of `vars` only; a variable the loss does not touch gets zeros.
  return { grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)), row: row! };
}

/**
 * One micro-batch: without a token budget (or when it fits the budget) one pass of its episodes in
 * order, with `lossOptions` unchanged; otherwise the passes of `packByTokens` (padded tokens =
 * rows × (longest prompt + longest completion)), with the micro-batch's rows and active tokens as
 * the normalisers of grpo, bnpo and dr_grpo, so the passes' losses sum to the micro-batch's.
 */
function prepareMicroBatch(
  models: UpdateModels,
  cfg: GrpoConfig,
  episodes: readonly UpdateEpisode[],
  rowActive: readonly number[],
  lossOptions: PolicyLossOptions,
): MicroBatch {
  const budget = cfg.maxTokensPerMicroBatch;
  const packs =
    budget === undefined
      ? [episodes.map((_, i) => i)]
      : packByTokens(
          episodes.map((e) => ({
            head: e.promptIds.length,
            tail: Math.max(1, e.completionIds.length),
          })),
          budget,
        );
  const passes: Pass[] = [];
  try {
    for (const pack of packs) {
      passes.push(
        preparePass(
          models,
          cfg,
          pack.map((i) => episodes[i]!),
          pack.map((i) => rowActive[i]!),
        ),
      );
    }
  } catch (e) {
    for (const p of passes) {
      tf.dispose([p.oldLogProbs, p.advantages, p.mask]);
      p.refLogProbs?.dispose();
    }
    throw e;
  }
  if (packs.length === 1) return { passes, lossOptions };
  return {
    passes,
    lossOptions: {
      ...lossOptions,
      microBatchRows: episodes.length,
      microBatchActiveTokens: episodes.reduce(
        (s, e, i) => s + e.completionIds.length * rowActive[i]!,
        0,
      ),
    },
  };
}

/** Pad one pass's fixed inputs into tensors (old/ref log-probs computed here if needed). */
function preparePass(
  models: UpdateModels,
  cfg: GrpoConfig,
  episodes: readonly UpdateEpisode[],
  rowActive: readonly number[],
): Pass {
  const b = episodes.length;
  const promptIds = episodes.map((e) => e.promptIds);
  const completionIds = episodes.map((e) => e.completionIds);
  const tc = paddedCompletionLength(completionIds);
  const mask = new Float32Array(b * tc); // [b,Tc]
  const old = new Float32Array(b * tc); // [b,Tc]
  let allOld = true;
  episodes.forEach((e, i) => {
    for (let j = 0; j < e.completionIds.length; j++) {
      mask[i * tc + j] = rowActive[i]!;
      if (e.oldLogProbs) old[i * tc + j] = e.oldLogProbs[j]!;
    }
    if (!e.oldLogProbs) allOld = false;
  });
  const noGradLogProbs = (model: CausalLM): tf.Tensor2D =>
    tf.tidy(() => completionLogProbs(model, promptIds, completionIds, cfg.temperature).logProbs);
  const mb: Pass = {
    promptIds,
    completionIds,
    oldLogProbs: allOld ? tf.tensor2d(old, [b, tc]) : noGradLogProbs(models.policy),
    advantages: tf.tensor1d(
      episodes.map((e) => e.advantage),
      'float32',
    ),
    mask: tf.tensor2d(mask, [b, tc]),
  };
  if (cfg.beta > 0 && models.reference) mb.refLogProbs = noGradLogProbs(models.reference);
  return mb;
}
