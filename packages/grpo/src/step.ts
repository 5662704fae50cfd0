// One GRPO step (GRPO-Zero's four stages): rollout -> rewards -> advantages -> μ clipped-loss
// updates over gradient-accumulated micro-batches. Returns TRL-named metrics and per-completion
// records. Leaves out data loading, checkpointing and logging to disk (the trainer's job).
import type { CausalLM, Rng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { completionLogProbs, paddedCompletionLength } from './_internal/token-log-probs.js';
import { type GrpoConfig, type GrpoConfigInput, resolveGrpoConfig } from './config.js';
import { GrpoError } from './errors.js';
import type { Logger } from './logger.js';
import { type PolicyLossOptions, policyLoss, policyLossStats } from './loss.js';
import { buildStepMetrics, type GrpoMetrics } from './metrics.js';
import { AdamW, clipByGlobalNorm, GradientAccumulator } from './optimizer.js';
import {
  type CompletionView,
  combineRewards,
  type RewardSpec,
  scoreCompletions,
} from './rewards.js';
import { InProcessRolloutEngine, type Rollout, type RolloutEngine } from './rollout.js';
import { learningRateAt } from './schedule.js';

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
}

/** One step's input: P samples and their tokenised prompts. */
export interface GrpoBatch<S> {
  /** P dataset samples, passed to reward functions (each repeated G times). */
  samples: readonly S[];
  /** P prompts of token ids (chat template already applied). */
  promptIds: readonly (readonly number[])[];
}

/** What the trainer logs about one completion. */
export interface CompletionRecord {
  /** Index of the prompt in the batch. */
  promptIndex: number;
  /** g in [0, G). */
  generation: number;
  promptIds: number[];
  completionIds: number[];
  text: string;
  truncated: boolean;
  /** Raw reward of every function, by name. */
  rewards: Record<string, number>;
  /** Total reward after gates and weights. */
  reward: number;
  /** Group-normalised advantage. */
  advantage: number;
}

/** Result of {@link grpoStep}. */
export interface GrpoStepResult {
  metrics: GrpoMetrics;
  /** P·G records, completion g of prompt p at index `p*G + g`. */
  completions: CompletionRecord[];
}

/**
 * An {@link AdamW} over `policy.trainableVariables` with the config's betas, epsilon and weight
 * decay.
 */
export function createOptimizer(policy: CausalLM, config: GrpoConfigInput = {}): AdamW {
  const c = resolveGrpoConfig(config);
  return new AdamW(policy.trainableVariables, {
    beta1: c.adamBeta1,
    beta2: c.adamBeta2,
    epsilon: c.adamEpsilon,
    weightDecay: c.weightDecay,
  });
}

/** Fixed tensors of one micro-batch (kept across the μ iterations). */
interface MicroBatch {
  promptIds: number[][];
  completionIds: number[][];
  oldLogProbs: tf.Tensor2D; // [b,Tc]
  refLogProbs?: tf.Tensor2D; // [b,Tc]
  advantages: tf.Tensor1D; // [b]
  mask: tf.Tensor2D; // [b,Tc]
}

const now = (): number => performance.now();

/**
 * Run one GRPO step: sample G completions per prompt, score them, form advantages, then apply
 * `numIterations` optimiser updates, each over `gradientAccumulationSteps` micro-batches of the
 * P·G completions, reusing the sampling-time log-probs as the "old" policy.
 * @throws GrpoError `BAD_ARGUMENT` / `BAD_CONFIG` / `BAD_REWARD` for inconsistent inputs
 */
export async function grpoStep<S>(
  options: GrpoStepOptions<S>,
  batch: GrpoBatch<S>,
): Promise<GrpoStepResult> {
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
    maxCompletionLength: cfg.maxCompletionLength,
    temperature: cfg.temperature,
    topP: cfg.topP,
    topK: cfg.topK,
    rng: options.rng,
    ...(cfg.stopStrings ? { stopStrings: cfg.stopStrings } : {}),
    ...(cfg.eosTokenIds ? { eosTokenIds: cfg.eosTokenIds } : {}),
  });
  checkRollouts(rollouts, p, g);
  const tGen = now();

  // 2. Rewards and advantages (host side)
  const views: CompletionView[] = rollouts.map((r) => ({
    text: r.text,
    tokenIds: r.completionIds,
    truncated: r.truncated,
  }));
  const raw = await scoreCompletions(
    options.rewards,
    rollouts.map((r) => batch.samples[r.promptIndex]!),
    views,
    {
      promptIds: rollouts.map((r) => r.promptIds),
      completionIds: rollouts.map((r) => r.completionIds),
      groupSize: g,
      step: stepIndex,
    },
  );
  for (const [name, values] of Object.entries(raw)) {
    if (values.every(Number.isNaN))
      options.logger?.warn(`reward '${name}' returned NaN for every completion`);
  }
  const combined = combineRewards(options.rewards, raw, {
    groupSize: g,
    aggregation: cfg.multiObjectiveAggregation,
    scaleRewards: cfg.scaleRewards,
    epsilon: cfg.advantageEpsilon,
    ...(cfg.rewardWeights ? { rewardWeights: cfg.rewardWeights } : {}),
  });
  const tReward = now();

  // 3. Updates
  const rowActive = rollouts.map((r) => (cfg.maskTruncatedCompletions && r.truncated ? 0 : 1));
  const numItemsInBatch = rollouts.reduce(
    (s, r, i) => s + r.completionIds.length * rowActive[i]!,
    0,
  );
  const lossOptions: PolicyLossOptions = {
    lossType: cfg.lossType,
    epsilon: cfg.epsilon,
    ...(cfg.epsilonHigh !== undefined ? { epsilonHigh: cfg.epsilonHigh } : {}),
    beta: cfg.beta,
    maxCompletionLength: cfg.maxCompletionLength,
    numItemsInBatch,
    gradientAccumulationSteps: cfg.gradientAccumulationSteps,
  };
  const micro: MicroBatch[] = [];
  const kept: tf.Tensor[] = []; // per (iteration, micro-batch) [8] rows and per-iteration norms
  const accumulator = new GradientAccumulator();
  const learningRates: number[] = [];
  try {
    const size = n / cfg.gradientAccumulationSteps;
    for (let start = 0; start < n; start += size) {
      micro.push(
        prepareMicroBatch(
          options,
          cfg,
          rollouts.slice(start, start + size),
          combined.advantages.slice(start, start + size),
          rowActive.slice(start, start + size),
        ),
      );
    }
    const vars = optimizer.variables as tf.Variable[];
    for (let it = 0; it < cfg.numIterations; it++) {
      for (const mb of micro) {
        let row: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const lp = completionLogProbs(policy, mb.promptIds, mb.completionIds, cfg.temperature);
          const inputs = {
            logProbs: lp.logProbs,
            oldLogProbs: mb.oldLogProbs,
            advantages: mb.advantages,
            mask: mb.mask,
            ...(mb.refLogProbs ? { refLogProbs: mb.refLogProbs } : {}),
          };
          const loss = policyLoss(inputs, lossOptions);
          row = tf.keep(
            tf.concat([
              tf.reshape(loss, [1]),
              policyLossStats(inputs, lossOptions), // low, high, region, kl, count
              tf.reshape(
                tf.div(tf.sum(tf.mul(lp.entropy, mb.mask)), tf.maximum(tf.sum(mb.mask), 1)),
                [1],
              ),
            ]),
          ); // [7]
          return loss;
        }, vars);
        kept.push(row!);
        const list = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
        accumulator.add(list);
        value.dispose();
        tf.dispose(list);
        tf.dispose(grads);
      }
      const sums = accumulator.take();
      const { grads: clipped, norm } = clipByGlobalNorm(sums, cfg.maxGradNorm);
      tf.dispose(sums);
      const lr = learningRateAt(optimizer.step, cfg);
      learningRates.push(lr);
      try {
        optimizer.applyGradients(clipped, lr);
      } finally {
        tf.dispose(clipped);
      }
      kept.push(tf.reshape(norm, [1]));
      norm.dispose();
    }
    const flat = tf.tidy(() => tf.concat(kept.map((t) => tf.reshape(t, [-1]))));
    let values: Float32Array;
    try {
      values = (await flat.data()) as Float32Array; // the one host read of the update phase
    } finally {
      flat.dispose();
    }
    const tEnd = now();
    const m = micro.length;
    const perIter = m * 7 + 1;
    const microRows: number[][] = [];
    const gradNorms: number[] = [];
    for (let it = 0; it < cfg.numIterations; it++) {
      for (let k = 0; k < m; k++)
        microRows.push(
          Array.from(values.subarray(it * perIter + k * 7, it * perIter + (k + 1) * 7)),
        );
      gradNorms.push(values[it * perIter + m * 7]!);
    }
    const metrics = buildStepMetrics({
      rollouts,
      raw,
      combined,
      microRows,
      gradNorms,
      numIterations: cfg.numIterations,
      learningRate: learningRates[learningRates.length - 1]!,
      beta: cfg.beta,
      timesMs: {
        generation: tGen - tStart,
        reward: tReward - tGen,
        update: tEnd - tReward,
        total: tEnd - tStart,
      },
    });
    const completions: CompletionRecord[] = rollouts.map((r, i) => ({
      promptIndex: r.promptIndex,
      generation: i % g,
      promptIds: r.promptIds,
      completionIds: r.completionIds,
      text: r.text,
      truncated: r.truncated,
      rewards: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v[i]!])),
      reward: combined.total[i]!,
      advantage: combined.advantages[i]!,
    }));
    return { metrics, completions };
  } finally {
    accumulator.dispose();
    tf.dispose(kept);
    for (const mb of micro) {
      tf.dispose([mb.oldLogProbs, mb.advantages, mb.mask]);
      mb.refLogProbs?.dispose();
    }
  }
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

/** Pad one micro-batch's fixed inputs into tensors (old/ref log-probs computed here if needed). */
function prepareMicroBatch<S>(
  options: GrpoStepOptions<S>,
  cfg: GrpoConfig,
  rollouts: readonly Rollout[],
  advantages: readonly number[],
  rowActive: readonly number[],
): MicroBatch {
  const b = rollouts.length;
  const promptIds = rollouts.map((r) => r.promptIds);
  const completionIds = rollouts.map((r) => r.completionIds);
  const tc = paddedCompletionLength(completionIds);
  const mask = new Float32Array(b * tc);
  const old = new Float32Array(b * tc);
  let allOld = true;
  rollouts.forEach((r, i) => {
    for (let j = 0; j < r.completionIds.length; j++) {
      mask[i * tc + j] = rowActive[i]!;
      if (r.oldLogProbs) old[i * tc + j] = r.oldLogProbs[j]!;
    }
    if (!r.oldLogProbs) allOld = false;
  });
  const noGradLogProbs = (model: CausalLM): tf.Tensor2D =>
    tf.tidy(() => completionLogProbs(model, promptIds, completionIds, cfg.temperature).logProbs);
  const mb: MicroBatch = {
    promptIds,
    completionIds,
    oldLogProbs: allOld ? tf.tensor2d(old, [b, tc]) : noGradLogProbs(options.policy),
    advantages: tf.tensor1d(advantages as number[], 'float32'),
    mask: tf.tensor2d(mask, [b, tc]),
  };
  if (cfg.beta > 0 && options.reference) mb.refLogProbs = noGradLogProbs(options.reference);
  return mb;
}
