// The clipped GRPO policy loss and its four normalisations (method.md §4, TRL `loss_type`), plus
// the clip/KL statistics TRL logs. Operates on given log-prob tensors; leaves out how they are
// computed (step.ts) and the optimiser (optimizer.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { LossType } from './config.js';
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

/**
 * Per-token loss `-min(ρ·A, clip(ρ, 1-ε, 1+ε_high)·A) + β·k3` with `ρ = exp(logp - old)`.
 * @returns `[B,T]` unmasked per-token loss
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
  return tf.tidy(() => {
    const eLow = options.epsilon;
    const eHigh = options.epsilonHigh ?? options.epsilon;
    const a = tokenAdvantages(inputs.advantages); // [B,T] or [B,1]
    const ratio = tf.exp(tf.sub(inputs.logProbs, inputs.oldLogProbs)); // [B,T]
    const clipped = tf.clipByValue(ratio, 1 - eLow, 1 + eHigh); // [B,T]
    let loss = tf.neg(tf.minimum(tf.mul(ratio, a), tf.mul(clipped, a))); // [B,T]
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
 * at 1 as in TRL. Call inside `tf.variableGrads` / `tf.tidy`.
 * @throws GrpoError `SHAPE_MISMATCH` naming the bad argument; `BAD_ARGUMENT` for missing options
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
        return tf.div(tf.mean(perSeq), ga) as tf.Scalar;
      }
      case 'bnpo':
        return tf.div(tf.div(tf.sum(masked), tf.maximum(tf.sum(m), 1)), ga) as tf.Scalar;
      case 'dr_grpo':
        return tf.div(tf.sum(masked), b * options.maxCompletionLength! * ga) as tf.Scalar;
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
 * TRL's clip statistics and mean KL of one micro-batch, as masked token means (not
 * differentiable). Low: ρ < 1-ε with A < 0; high: ρ > 1+ε_high with A > 0; region: either.
 * @returns `[5]`: low, high, region, kl (0 without refLogProbs), number of active tokens
 */
export function policyLossStats(inputs: PolicyLossInputs, options: PolicyLossOptions): tf.Tensor1D {
  checkShapes(inputs);
  return tf.tidy(() => {
    const eLow = options.epsilon;
    const eHigh = options.epsilonHigh ?? options.epsilon;
    const a = tokenAdvantages(inputs.advantages);
    const ratio = tf.exp(tf.sub(inputs.logProbs, inputs.oldLogProbs)); // [B,T]
    const low = tf.logicalAnd(tf.less(ratio, 1 - eLow), tf.less(a, 0));
    const high = tf.logicalAnd(tf.greater(ratio, 1 + eHigh), tf.greater(a, 0));
    const region = tf.logicalOr(low, high);
    const m = inputs.mask;
    const count = tf.sum(m);
    const denom = tf.maximum(count, 1);
    const mean = (x: tf.Tensor): tf.Scalar =>
      tf.div(tf.sum(tf.mul(tf.cast(x, 'float32'), m)), denom) as tf.Scalar;
    const kl = inputs.refLogProbs ? mean(k3Kl(inputs.logProbs, inputs.refLogProbs)) : tf.scalar(0);
    return tf.stack([mean(low), mean(high), mean(region), kl, count]) as tf.Tensor1D;
  });
}
