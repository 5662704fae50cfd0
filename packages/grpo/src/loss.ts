// The clipped GRPO policy loss and its four normalisations (method.md §4, TRL `loss_type`), plus
// the clip/KL statistics TRL logs. Operates on given log-prob tensors; leaves out how they are
// computed (step.ts) and the optimiser (optimizer.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { ImportanceSamplingLevel, LossType } from './config.js';
import { GrpoError } from './errors.js';
import { k3Kl } from './kl.js';

/** Tensors of one micro-batch. B sequences, T padded completion length. */
export interface PolicyLossInputs {
  /** `[B,T]` log-probs of the completion tokens under the current policy (differentiable). */
  logProbs: tf.Tensor2D;
  /** `[B,T]` log-probs under the policy that sampled them ("old", recorded at sampling time). */
  oldLogProbs: tf.Tensor2D;
  /** `[B]` per-sequence advantages (broadcast to tokens) or `[B,T]` per-token advantages. */
  advantages: tf.Tensor1D | tf.Tensor2D;
  /** `[B,T]` 1 on tokens that count in the loss, 0 on padding (and masked truncated rows). */
  mask: tf.Tensor2D;
  /** `[B,T]` log-probs under the frozen reference; required when `beta > 0`. */
  refLogProbs?: tf.Tensor2D;
  /**
   * `[B,T]` entropy of the current policy's next-token distribution, from the same forward pass as
   * `logProbs`; required when `topEntropyQuantile < 1`. Only compared, never differentiated.
   */
  entropy?: tf.Tensor2D;
}

/** Options of {@link policyLoss}. */
export interface PolicyLossOptions {
  lossType: LossType;
  /** Lower clip ε: ratios below 1-ε with A < 0 get no gradient. */
  epsilon: number;
  /** Upper clip; default `epsilon`. */
  epsilonHigh?: number;
  /** KL weight β (default 0). */
  beta?: number;
  /** dr_grpo's constant: the configured maximum completion length (not the padded T). */
  maxCompletionLength?: number;
  /** dapo's normaliser: active tokens in the whole accumulated batch (default: this micro-batch's). */
  numItemsInBatch?: number;
  /** grpo, bnpo and dr_grpo divide by it so accumulated gradients average (default 1). */
  gradientAccumulationSteps?: number;
  /**
   * grpo's and dr_grpo's B when this call holds only some rows of a micro-batch (a token-budget
   * part, `maxTokensPerMicroBatch`): the rows of the whole micro-batch (default: this call's B).
   * The parts' losses then sum to the micro-batch's loss exactly.
   */
  microBatchRows?: number;
  /**
   * bnpo's Σ m when this call holds only some rows of a micro-batch: the active tokens of the whole
   * micro-batch (default: this call's Σ m; clamped at 1 either way).
   */
  microBatchActiveTokens?: number;
  /**
   * `'token'` (default): ρ per token. `'sequence'` (GSPO): one ρ per sequence, the exponentiated
   * masked mean of `logp - old` over its active tokens (count clamped at 1), used by all its tokens.
   */
  importanceSamplingLevel?: ImportanceSamplingLevel;
  /** Two-sided clipping cap of the unclipped term, `min(ρ, delta)` (default: off). */
  delta?: number | null;
  /**
   * Keep only tokens with entropy ≥ the (1 - ρ) quantile of the active tokens' entropies in this
   * call (one micro-batch) in the policy term (default 1 = keep all). Needs `inputs.entropy`.
   */
  topEntropyQuantile?: number;
}

function checkShapes(x: PolicyLossInputs): void {
  const [b, t] = x.logProbs.shape;
  const same = (name: string, s: tf.Tensor | undefined): void => {
    if (s && (s.rank !== 2 || s.shape[0] !== b || s.shape[1] !== t)) {
      throw new GrpoError(
        'SHAPE_MISMATCH',
        `${name} has shape [${s.shape}], expected [B,T] = [${b},${t}] like logProbs`,
      );
    }
  };
  if (x.logProbs.rank !== 2)
    throw new GrpoError('SHAPE_MISMATCH', `logProbs has rank ${x.logProbs.rank}, expected [B,T]`);
  same('oldLogProbs', x.oldLogProbs);
  same('mask', x.mask);
  same('refLogProbs', x.refLogProbs);
  same('entropy', x.entropy);
  const a = x.advantages;
  if (a.rank === 1 ? a.shape[0] !== b : a.rank !== 2 || a.shape[0] !== b || a.shape[1] !== t) {
    throw new GrpoError(
      'SHAPE_MISMATCH',
      `advantages has shape [${a.shape}], expected [B] = [${b}] or [B,T] = [${b},${t}]`,
    );
  }
}

/** `[B,T]` or `[B,1]` view of the advantages for broadcasting against tokens. */
function tokenAdvantages(a: tf.Tensor1D | tf.Tensor2D): tf.Tensor2D {
  return (a.rank === 1 ? tf.expandDims(a, 1) : a) as tf.Tensor2D;
}

/** Whether the entropy mask is on (`topEntropyQuantile < 1`). */
function usesEntropyMask(options: PolicyLossOptions): boolean {
  const q = options.topEntropyQuantile ?? 1;
  return q < 1;
}

/**
 * Importance ratio: `[B,T]` per token, or `[B,1]` per sequence (GSPO: exp of the masked mean of
 * the log-ratios, count clamped at 1). Differentiable in `logProbs`.
 */
function importanceRatio(x: PolicyLossInputs, level: ImportanceSamplingLevel): tf.Tensor2D {
  const logRatio = tf.sub(x.logProbs, x.oldLogProbs); // [B,T]
  if (level === 'token') return tf.exp(logRatio) as tf.Tensor2D;
  const perSeq = tf.div(
    tf.sum(tf.mul(logRatio, x.mask), 1, true), // [B,1]
    tf.maximum(tf.sum(x.mask, 1, true), 1), // [B,1]
  );
  return tf.exp(perSeq) as tf.Tensor2D; // [B,1]
}

/**
 * `[B,T]` 1 on active tokens whose entropy is ≥ the `(1 - quantile)` quantile of the active
 * tokens' entropies (linear interpolation between order statistics, as `torch.quantile`), 0
 * elsewhere; all 0 when no token is active. A constant for autodiff: the custom gradient is 0.
 */
function highEntropyMask(entropy: tf.Tensor2D, mask: tf.Tensor2D, quantile: number): tf.Tensor2D {
  const [b, t] = mask.shape;
  const n = b * t;
  // customGrad records one tape node, so the sort below never needs a gradient.
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [e, m] = args as [tf.Tensor, tf.Tensor];
    const value = tf.tidy(() => {
      const active = tf.greater(tf.reshape(m, [n]), 0); // [N] bool
      const flat = tf.reshape(e, [n]); // [N]
      // entropies are ≥ 0, so -1 sorts every inactive token after the active ones
      const sorted = tf.topk(tf.where(active, flat, tf.fill([n], -1)), n, true).values; // [N] desc
      const count = tf.sum(tf.cast(active, 'float32')); // k active tokens
      // ascending rank r = q·(k-1) and its neighbours; descending index = k-1-rank
      const rank = tf.mul(1 - quantile, tf.maximum(tf.sub(count, 1), 0));
      const lo = tf.floor(rank);
      const hi = tf.ceil(rank);
      const at = (r: tf.Tensor): tf.Tensor =>
        tf.gather(
          sorted,
          tf.reshape(tf.cast(tf.clipByValue(tf.sub(tf.sub(count, 1), r), 0, n - 1), 'int32'), [1]),
        ); // [1]
      const vLo = at(lo);
      const threshold = tf.add(vLo, tf.mul(tf.sub(rank, lo), tf.sub(at(hi), vLo))); // [1]
      const keep = tf.logicalAnd(tf.greaterEqual(flat, threshold), active); // [N]
      return tf.reshape(tf.cast(keep, 'float32'), [b, t]);
    });
    return { value, gradFunc: () => [tf.zerosLike(e), tf.zerosLike(m)] };
  });
  return f(entropy, mask) as tf.Tensor2D;
}

/**
 * Per-token loss `-min(ρ'·A, clip(ρ, 1-ε, 1+ε_high)·A)·h + β·k3`, as TRL's `_compute_loss`:
 * `ρ = exp(logp - old)` per token, or per sequence with `importanceSamplingLevel: 'sequence'`
 * (broadcast to its tokens); `ρ' = min(ρ, delta)` with `delta` set, else `ρ`; `h` the
 * high-entropy mask with `topEntropyQuantile < 1`, else 1 (the KL term is not masked by it).
 * @returns `[B,T]` per-token loss, not yet multiplied by `mask`
 * @throws GrpoError `SHAPE_MISMATCH`; `BAD_ARGUMENT` for a missing `refLogProbs` / `entropy` or
 *   a `topEntropyQuantile` outside (0, 1] / a non-finite or non-positive `delta`
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { perTokenPolicyLoss } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const old = tf.tensor2d([[-1, -1]]);
 * const loss = perTokenPolicyLoss(
 *   { logProbs: tf.tensor2d([[-1, -0.5]]), oldLogProbs: old, advantages: tf.tensor1d([1]), mask: tf.ones([1, 2]) },
 *   { lossType: 'grpo', epsilon: 0.2 },
 * );
 * // ρ = [1, e^0.5 ≈ 1.65]; with A > 0 the second is clipped at 1 + ε: −[1, 1.2]
 * console.log(await loss.data()); // [-1, -1.2]
 * ```
 */
export function perTokenPolicyLoss(
  inputs: PolicyLossInputs,
  options: PolicyLossOptions,
): tf.Tensor2D {
  checkShapes(inputs);
  const beta = options.beta ?? 0;
  if (beta > 0 && !inputs.refLogProbs) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `beta = ${beta} needs refLogProbs (log-probs under the frozen reference model)`,
    );
  }
  const q = options.topEntropyQuantile ?? 1;
  if (!(q > 0 && q <= 1)) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `topEntropyQuantile = ${q} is invalid; expected a fraction in (0, 1] (1 = all tokens)`,
    );
  }
  const delta = options.delta ?? null;
  if (delta !== null && !(Number.isFinite(delta) && delta > 0)) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `delta = ${delta} is invalid; expected null (off) or a finite cap > 1 + epsilonHigh`,
    );
  }
  const entropyMask = usesEntropyMask(options);
  if (entropyMask && !inputs.entropy) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `topEntropyQuantile = ${options.topEntropyQuantile} needs entropy (the [B,T] policy entropies of the same forward pass)`,
    );
  }
  return tf.tidy(() => {
    const eLow = options.epsilon;
    const eHigh = options.epsilonHigh ?? options.epsilon;
    const a = tokenAdvantages(inputs.advantages); // [B,T] or [B,1]
    const ratio = importanceRatio(inputs, options.importanceSamplingLevel ?? 'token'); // [B,T] or [B,1]
    const clipped = tf.clipByValue(ratio, 1 - eLow, 1 + eHigh);
    const capped = delta === null ? ratio : tf.minimum(ratio, delta);
    let loss = tf.neg(tf.minimum(tf.mul(capped, a), tf.mul(clipped, a))); // [B,T] or [B,1]
    if (loss.shape[1] !== inputs.logProbs.shape[1]) {
      loss = tf.mul(loss, tf.onesLike(inputs.logProbs)); // [B,1] -> [B,T]
    }
    if (entropyMask && inputs.entropy) {
      loss = tf.mul(loss, highEntropyMask(inputs.entropy, inputs.mask, q));
    }
    if (beta > 0 && inputs.refLogProbs) {
      loss = tf.add(loss, tf.mul(beta, k3Kl(inputs.logProbs, inputs.refLogProbs)));
    }
    return loss as tf.Tensor2D;
  });
}

/**
 * The scalar loss of one micro-batch (method.md §4):
 * - `grpo`: Σ_t(ℓ·m)/Σ_t m per sequence, mean over sequences, / accumulation steps;
 * - `bnpo`: Σ(ℓ·m) / Σ m over the micro-batch, / accumulation steps;
 * - `dr_grpo`: Σ(ℓ·m) / (B · maxCompletionLength), / accumulation steps;
 * - `dapo`: Σ(ℓ·m) / numItemsInBatch (active tokens of the whole accumulated batch).
 * Summing the gradients of all micro-batches then gives the gradient of the full-batch loss for
 * dapo and dr_grpo exactly (and for grpo with equal micro-batch sizes). Token counts are clamped
 * at 1 as in TRL. A call on some rows of a micro-batch (a token-budget part) passes
 * `microBatchRows` / `microBatchActiveTokens` of the whole micro-batch, so the parts' losses sum to
 * the micro-batch's for every type. Call inside `tf.variableGrads` / `tf.tidy`.
 * @throws GrpoError `SHAPE_MISMATCH` naming the bad argument; `BAD_ARGUMENT` for missing options
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { policyLoss } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const logProbs = tf.tensor2d([[-1, -2], [-0.5, 0]]); // [B,T], here equal to the sampling policy's
 * const loss = policyLoss(
 *   { logProbs, oldLogProbs: logProbs, advantages: tf.tensor1d([1, -1]), mask: tf.tensor2d([[1, 1], [1, 0]]) },
 *   { lossType: 'grpo', epsilon: 0.2 },
 * );
 * console.log(await loss.data()); // [0]: ratio 1, per-sequence means −A = [−1, 1], averaged
 * ```
 */
export function policyLoss(inputs: PolicyLossInputs, options: PolicyLossOptions): tf.Scalar {
  const ga = options.gradientAccumulationSteps ?? 1;
  if (
    options.lossType === 'dr_grpo' &&
    !(options.maxCompletionLength && options.maxCompletionLength > 0)
  ) {
    throw new GrpoError('BAD_ARGUMENT', "lossType 'dr_grpo' needs maxCompletionLength > 0");
  }
  return tf.tidy(() => {
    const perToken = perTokenPolicyLoss(inputs, options); // [B,T]
    const m = inputs.mask;
    const b = m.shape[0];
    const masked = tf.mul(perToken, m); // [B,T]
    switch (options.lossType) {
      case 'grpo': {
        const perSeq = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(m, 1), 1)); // [B]
        const rows = options.microBatchRows;
        // the default keeps tf.mean, so a call without the option is unchanged bit for bit
        const meanSeq = rows === undefined ? tf.mean(perSeq) : tf.div(tf.sum(perSeq), rows);
        return tf.div(meanSeq, ga) as tf.Scalar;
      }
      case 'bnpo': {
        const n = options.microBatchActiveTokens;
        const denom = n === undefined ? tf.maximum(tf.sum(m), 1) : tf.scalar(Math.max(n, 1));
        return tf.div(tf.div(tf.sum(masked), denom), ga) as tf.Scalar;
      }
      case 'dr_grpo': {
        const rows = options.microBatchRows ?? b;
        return tf.div(tf.sum(masked), rows * options.maxCompletionLength! * ga) as tf.Scalar;
      }
      case 'dapo': {
        const n = options.numItemsInBatch;
        const denom = n === undefined ? tf.maximum(tf.sum(m), 1) : tf.scalar(Math.max(n, 1));
        return tf.div(tf.sum(masked), denom) as tf.Scalar;
      }
      default:
        throw new GrpoError('BAD_ARGUMENT', `lossType '${String(options.lossType)}' is unknown`);
    }
  });
}

/**
 * TRL's clip statistics and mean KL of one micro-batch (not differentiable). Low: ρ < 1-ε with
 * A < 0; high: ρ > 1+ε_high with A > 0; region: either; ρ is the ratio of the loss (per sequence
 * with `importanceSamplingLevel: 'sequence'`, capped at `delta` when set, as TRL). They are masked
 * token means, except that sequence-level ratios with `[B]` advantages give one flag per sequence
 * and the means are over the B sequences (TRL's `global_masked_mean` of a `[B,1]` tensor). The
 * entropy mask does not change them.
 * @returns `[5]`: low, high, region, kl (0 without refLogProbs), number of active tokens
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { policyLossStats } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const stats = policyLossStats(
 *   { logProbs: tf.tensor2d([[0, -2]]), oldLogProbs: tf.tensor2d([[-1, -1]]), advantages: tf.tensor1d([1]), mask: tf.ones([1, 2]) },
 *   { lossType: 'grpo', epsilon: 0.2 },
 * );
 * // ρ = [e, 1/e]: token 0 is clipped high (ρ > 1.2 with A > 0), token 1 is not low (A > 0)
 * console.log(await stats.data()); // [low 0, high 0.5, region 0.5, kl 0, active tokens 2]
 * ```
 */
export function policyLossStats(inputs: PolicyLossInputs, options: PolicyLossOptions): tf.Tensor1D {
  checkShapes(inputs);
  return tf.tidy(() => {
    const eLow = options.epsilon;
    const eHigh = options.epsilonHigh ?? options.epsilon;
    const a = tokenAdvantages(inputs.advantages); // [B,T] or [B,1]
    const level = options.importanceSamplingLevel ?? 'token';
    const raw = importanceRatio(inputs, level); // [B,T] or [B,1]
    const delta = options.delta ?? null;
    const ratio = delta === null ? raw : tf.minimum(raw, delta);
    const low = tf.logicalAnd(tf.less(ratio, 1 - eLow), tf.less(a, 0)); // [B,T] or [B,1]
    const high = tf.logicalAnd(tf.greater(ratio, 1 + eHigh), tf.greater(a, 0));
    const region = tf.logicalOr(low, high);
    const m = inputs.mask;
    const count = tf.sum(m);
    const denom = tf.maximum(count, 1);
    const perSequence = level === 'sequence' && inputs.advantages.rank === 1; // flags [B,1]
    const mean = (x: tf.Tensor): tf.Scalar =>
      perSequence
        ? (tf.mean(tf.cast(x, 'float32')) as tf.Scalar)
        : (tf.div(tf.sum(tf.mul(tf.cast(x, 'float32'), m)), denom) as tf.Scalar);
    const kl = inputs.refLogProbs
      ? (tf.div(tf.sum(tf.mul(k3Kl(inputs.logProbs, inputs.refLogProbs), m)), denom) as tf.Scalar)
      : tf.scalar(0);
    return tf.stack([mean(low), mean(high), mean(region), kl, count]) as tf.Tensor1D;
  });
}
