// GRPO options: names and defaults follow Hugging Face TRL's `GRPOConfig` (and the
// `TrainingArguments` it extends) wherever a counterpart exists. Validation happens here, once.
import { GrpoError } from './errors.js';

/** How the clipped per-token losses of a micro-batch are reduced to one number (method.md §4). */
export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
/** Which standard deviation divides the centred rewards: per group, whole batch, or none. */
export type ScaleRewards = 'group' | 'batch' | 'none';
/** How several reward functions are combined (TRL `multi_objective_aggregation`). */
export type MultiObjectiveAggregation = 'sum_then_normalize' | 'normalize_then_sum';
/**
 * Where the importance ratio lives (TRL `importance_sampling_level`): `'token'` keeps one ratio per
 * token; `'sequence'` (GSPO) gives every token of a sequence the exponentiated masked mean of its
 * log-ratios.
 */
export type ImportanceSamplingLevel = 'token' | 'sequence';
/** Learning-rate schedule (Hugging Face `lr_scheduler_type` names). */
export type LrSchedulerType = 'constant' | 'constant_with_warmup' | 'linear' | 'cosine';

/** Every GRPO option; see the README table for each default and where it comes from. */
export interface GrpoConfig {
  /** G: completions sampled per prompt (TRL `num_generations`). */
  numGenerations: number;
  /** Maximum new tokens per completion (TRL `max_completion_length`); also dr_grpo's constant. */
  maxCompletionLength: number;
  /** Sampling temperature; the log-probs of the loss use the same temperature (TRL). */
  temperature: number;
  /** Nucleus sampling threshold, 1 = off (TRL `top_p`). */
  topP: number;
  /** Top-k sampling, 0 = off (TRL `top_k`). */
  topK: number;
  /** KL coefficient β; 0 = no reference model (TRL `beta`). */
  beta: number;
  /** μ: optimiser updates per generated batch (TRL `num_iterations`). */
  numIterations: number;
  /** Lower clipping bound ε of the importance ratio (TRL `epsilon`). */
  epsilon: number;
  /** Upper clipping bound; `undefined` = `epsilon` (TRL `epsilon_high`; DAPO uses 0.28). */
  epsilonHigh: number | undefined;
  /** Loss normalisation (TRL `loss_type`). */
  lossType: LossType;
  /**
   * Token- or sequence-level (GSPO) importance ratio (TRL `importance_sampling_level`). With
   * `'sequence'` the log-ratio of a sequence is the mean of `logp - old` over its active tokens and
   * every token uses its exponential; gradients flow through that mean. GSPO's per-sequence
   * objective is `lossType: 'grpo'`; the token-summing types weight sequences by length (TRL warns).
   */
  importanceSamplingLevel: ImportanceSamplingLevel;
  /**
   * Two-sided clipping (INTELLECT-2; TRL `delta`): `null` = off; otherwise the unclipped ratio term
   * uses `min(ρ, delta)`, which bounds the loss of negative-advantage tokens whose ratio grew.
   * Must be `> 1 + epsilonHigh` (TRL recommends it without enforcing it; at or below it the cap only
   * removes gradient inside the trust region).
   */
  delta: number | null;
  /**
   * ρ of "Beyond the 80/20 Rule" (TRL `top_entropy_quantile`), in (0, 1]: only completion tokens
   * whose policy entropy is at or above the (1 - ρ) quantile (linear interpolation, as
   * `torch.quantile`) of the micro-batch's active tokens count in the policy term; 1 = all tokens.
   * The quantile is per micro-batch, as in TRL (which computes it in each `_compute_loss` call).
   */
  topEntropyQuantile: number;
  /** Reward scaling for advantages (TRL `scale_rewards`). */
  scaleRewards: ScaleRewards;
  /** Added to the standard deviation before dividing (TRL hard-codes 1e-4). */
  advantageEpsilon: number;
  /** Combination of several rewards (TRL `multi_objective_aggregation`). */
  multiObjectiveAggregation: MultiObjectiveAggregation;
  /** Per reward function weight, overriding each `RewardSpec.weight` (TRL `reward_weights`). */
  rewardWeights: number[] | undefined;
  /** Exclude truncated completions from the loss (TRL `mask_truncated_completions`). */
  maskTruncatedCompletions: boolean;
  /** Peak learning rate of AdamW (TRL overrides Transformers' 5e-5 with 1e-6). */
  learningRate: number;
  /**
   * Learning-rate schedule (Transformers `lr_scheduler_type`). Default 'constant', not
   * Transformers' 'linear': a step function does not know the run length; set `maxSteps` for decay.
   */
  lrSchedulerType: LrSchedulerType;
  /** Linear warm-up steps; wins over `warmupRatio` when > 0 (Transformers `warmup_steps`). */
  warmupSteps: number;
  /** Warm-up as a fraction of `maxSteps` (Transformers `warmup_ratio`). */
  warmupRatio: number;
  /** Total optimiser updates, needed by decaying schedules (Transformers `max_steps`). */
  maxSteps: number | undefined;
  /** AdamW decoupled weight decay (Transformers `weight_decay`). */
  weightDecay: number;
  /** AdamW β1 (Transformers `adam_beta1`). */
  adamBeta1: number;
  /** AdamW β2 (Transformers `adam_beta2`). */
  adamBeta2: number;
  /** AdamW ε (Transformers `adam_epsilon`). */
  adamEpsilon: number;
  /** Global-norm gradient clipping threshold; 0 = off (Transformers `max_grad_norm`). */
  maxGradNorm: number;
  /** Micro-batches the generated batch is split into per update (Transformers `gradient_accumulation_steps`). */
  gradientAccumulationSteps: number;
  /**
   * Token budget of one forward/backward pass of the update (no TRL counterpart; default
   * `undefined` = off, each micro-batch in one pass). Each micro-batch is packed, longest first,
   * into parts whose padded tokens (rows × (longest prompt + longest completion)) stay ≤ the
   * budget; a completion longer than the budget gets a part of its own. The parts keep their
   * micro-batch's loss normalisation, so the accumulated gradient equals the unsplit one (up to
   * float rounding) for every `lossType`. Bounds activation memory, not the result. Not combinable
   * with `topEntropyQuantile < 1` (its quantile is over the whole micro-batch).
   */
  maxTokensPerMicroBatch: number | undefined;
  /** Stop generation when one of these strings appears (TRL passes them via generation kwargs). */
  stopStrings: string[] | undefined;
  /** End-of-sequence ids for generation (default: the model's). */
  eosTokenIds: number[] | undefined;
}

/** The defaults, with their source in the README options table. */
export const GRPO_DEFAULTS: Readonly<GrpoConfig> = Object.freeze({
  numGenerations: 8,
  maxCompletionLength: 256,
  temperature: 1,
  topP: 1,
  topK: 0,
  beta: 0,
  numIterations: 1,
  epsilon: 0.2,
  epsilonHigh: undefined,
  lossType: 'dapo',
  importanceSamplingLevel: 'token',
  delta: null,
  topEntropyQuantile: 1,
  scaleRewards: 'group',
  advantageEpsilon: 1e-4,
  multiObjectiveAggregation: 'sum_then_normalize',
  rewardWeights: undefined,
  maskTruncatedCompletions: false,
  learningRate: 1e-6,
  lrSchedulerType: 'constant',
  warmupSteps: 0,
  warmupRatio: 0,
  maxSteps: undefined,
  weightDecay: 0,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  maxGradNorm: 1,
  gradientAccumulationSteps: 1,
  maxTokensPerMicroBatch: undefined,
  stopStrings: undefined,
  eosTokenIds: undefined,
}) as GrpoConfig;

/** User-facing options: any subset; hyphenated aggregation names are accepted as aliases. */
export type GrpoConfigInput = Partial<Omit<GrpoConfig, 'multiObjectiveAggregation'>> & {
  multiObjectiveAggregation?:
    | MultiObjectiveAggregation
    | 'sum-then-normalize'
    | 'normalize-then-sum';
};

const LOSS_TYPES: readonly LossType[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo'];
const IS_LEVELS: readonly ImportanceSamplingLevel[] = ['token', 'sequence'];
const SCALES: readonly ScaleRewards[] = ['group', 'batch', 'none'];
const SCHEDULES: readonly LrSchedulerType[] = [
  'constant',
  'constant_with_warmup',
  'linear',
  'cosine',
];

function bad(message: string, option: string): never {
  throw new GrpoError('BAD_CONFIG', message, { option });
}

function checkNumber(
  name: string,
  v: number,
  min: number,
  opts: { integer?: boolean; exclusive?: boolean } = {},
): void {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (opts.exclusive ? v > min : v >= min) &&
    (!opts.integer || Number.isInteger(v));
  if (!ok) {
    bad(
      `${name} = ${String(v)} is invalid; expected a${opts.integer ? 'n integer' : ' finite number'} ${opts.exclusive ? '>' : '>='} ${min}`,
      name,
    );
  }
}

/**
 * Fill in defaults and validate. Unknown keys are rejected so a typo never silently falls back
 * to a default.
 * @throws GrpoError `BAD_CONFIG` naming the offending option
 * @example
 * ```ts
 * import { resolveGrpoConfig } from '@atmanrl/grpo';
 * const config = resolveGrpoConfig({ numGenerations: 4, lossType: 'dapo' });
 * console.log(config.epsilon, config.learningRate, config.beta); // TRL's defaults: 0.2 0.000001 0
 * ```
 */
export function resolveGrpoConfig(input: GrpoConfigInput = {}): GrpoConfig {
  for (const key of Object.keys(input)) {
    if (!(key in GRPO_DEFAULTS)) {
      bad(
        `unknown GRPO option '${key}'; known options: ${Object.keys(GRPO_DEFAULTS).join(', ')}`,
        key,
      );
    }
  }
  const defined = Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== undefined),
  ) as GrpoConfigInput;
  const agg = defined.multiObjectiveAggregation;
  const c: GrpoConfig = {
    ...GRPO_DEFAULTS,
    ...(defined as Partial<GrpoConfig>),
    multiObjectiveAggregation:
      agg === undefined
        ? GRPO_DEFAULTS.multiObjectiveAggregation
        : (agg.replace(/-/g, '_') as MultiObjectiveAggregation),
  };
  checkNumber('numGenerations', c.numGenerations, 1, { integer: true });
  checkNumber('maxCompletionLength', c.maxCompletionLength, 1, { integer: true });
  checkNumber('temperature', c.temperature, 0);
  checkNumber('topP', c.topP, 0, { exclusive: true });
  if (c.topP > 1) bad(`topP = ${c.topP} is invalid; expected a value in (0, 1]`, 'topP');
  checkNumber('topK', c.topK, 0, { integer: true });
  checkNumber('beta', c.beta, 0);
  checkNumber('numIterations', c.numIterations, 1, { integer: true });
  checkNumber('epsilon', c.epsilon, 0);
  if (c.epsilonHigh !== undefined) checkNumber('epsilonHigh', c.epsilonHigh, 0);
  checkNumber('advantageEpsilon', c.advantageEpsilon, 0);
  if (!LOSS_TYPES.includes(c.lossType))
    bad(
      `lossType '${c.lossType}' is unknown; expected one of ${LOSS_TYPES.join(', ')}`,
      'lossType',
    );
  if (!IS_LEVELS.includes(c.importanceSamplingLevel))
    bad(
      `importanceSamplingLevel '${String(c.importanceSamplingLevel)}' is unknown; expected 'token' or 'sequence'`,
      'importanceSamplingLevel',
    );
  if (c.delta !== null) {
    const upper = 1 + (c.epsilonHigh ?? c.epsilon);
    if (typeof c.delta !== 'number' || !Number.isFinite(c.delta) || !(c.delta > upper)) {
      bad(
        `delta = ${String(c.delta)} is invalid; expected null (off) or a finite number > 1 + epsilonHigh = ${upper} (INTELLECT-2 uses 4)`,
        'delta',
      );
    }
  }
  if (
    typeof c.topEntropyQuantile !== 'number' ||
    !Number.isFinite(c.topEntropyQuantile) ||
    !(c.topEntropyQuantile > 0 && c.topEntropyQuantile <= 1)
  ) {
    bad(
      `topEntropyQuantile = ${String(c.topEntropyQuantile)} is invalid; expected a fraction in (0, 1] (1 = all tokens; the paper uses 0.2)`,
      'topEntropyQuantile',
    );
  }
  if (!SCALES.includes(c.scaleRewards))
    bad(
      `scaleRewards '${c.scaleRewards}' is unknown; expected one of ${SCALES.join(', ')}`,
      'scaleRewards',
    );
  if (
    c.multiObjectiveAggregation !== 'sum_then_normalize' &&
    c.multiObjectiveAggregation !== 'normalize_then_sum'
  ) {
    bad(
      `multiObjectiveAggregation '${String(agg)}' is unknown; expected 'sum_then_normalize' or 'normalize_then_sum'`,
      'multiObjectiveAggregation',
    );
  }
  if (c.rewardWeights !== undefined) {
    if (!Array.isArray(c.rewardWeights) || !c.rewardWeights.every((w) => Number.isFinite(w))) {
      bad(
        'rewardWeights must be an array of finite numbers, one per reward function',
        'rewardWeights',
      );
    }
  }
  checkNumber('learningRate', c.learningRate, 0);
  if (!SCHEDULES.includes(c.lrSchedulerType))
    bad(
      `lrSchedulerType '${c.lrSchedulerType}' is unknown; expected one of ${SCHEDULES.join(', ')}`,
      'lrSchedulerType',
    );
  checkNumber('warmupSteps', c.warmupSteps, 0, { integer: true });
  checkNumber('warmupRatio', c.warmupRatio, 0);
  if (c.warmupRatio > 1)
    bad(`warmupRatio = ${c.warmupRatio} is invalid; expected a fraction in [0, 1]`, 'warmupRatio');
  if (c.maxSteps !== undefined) checkNumber('maxSteps', c.maxSteps, 1, { integer: true });
  if (
    (c.lrSchedulerType === 'linear' || c.lrSchedulerType === 'cosine') &&
    c.maxSteps === undefined
  ) {
    bad(
      `lrSchedulerType '${c.lrSchedulerType}' decays to 0 at maxSteps, which is not set; set maxSteps or use lrSchedulerType 'constant'`,
      'lrSchedulerType',
    );
  }
  checkNumber('weightDecay', c.weightDecay, 0);
  checkNumber('adamBeta1', c.adamBeta1, 0);
  checkNumber('adamBeta2', c.adamBeta2, 0);
  if (c.adamBeta1 >= 1 || c.adamBeta2 >= 1)
    bad('adamBeta1 and adamBeta2 must be in [0, 1)', c.adamBeta1 >= 1 ? 'adamBeta1' : 'adamBeta2');
  checkNumber('adamEpsilon', c.adamEpsilon, 0);
  checkNumber('maxGradNorm', c.maxGradNorm, 0);
  checkNumber('gradientAccumulationSteps', c.gradientAccumulationSteps, 1, { integer: true });
  if (c.maxTokensPerMicroBatch !== undefined) {
    checkNumber('maxTokensPerMicroBatch', c.maxTokensPerMicroBatch, 1, { integer: true });
    if (c.topEntropyQuantile < 1)
      bad(
        `maxTokensPerMicroBatch = ${c.maxTokensPerMicroBatch} with topEntropyQuantile = ${c.topEntropyQuantile}: the entropy quantile is taken over a whole micro-batch, which a token budget splits; leave maxTokensPerMicroBatch unset (and use gradientAccumulationSteps) or set topEntropyQuantile to 1`,
        'maxTokensPerMicroBatch',
      );
  }
  return c;
}
