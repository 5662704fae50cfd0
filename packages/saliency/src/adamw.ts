// AdamW for a single parameter tensor (the mask θ), as torch.optim.AdamW: decoupled weight decay
// applied before the Adam step, bias-corrected moments, eps added to sqrt(v̂). No amsgrad, no
// maximize; the model's own optimiser lives in @atmanrl/grpo.
import * as tf from '@tensorflow/tfjs-core';

/** AdamW hyper-parameters (torch.optim.AdamW names). */
export interface AdamWConfig {
  /** Learning rate (AtManRL: 1e-3). */
  lr: number;
  /** (β1, β2) (AtManRL: (0.6, 0.9999)). */
  betas: readonly [number, number];
  /** Decoupled weight decay (AtManRL: 0.05). */
  weightDecay: number;
  /** Added to sqrt(v̂) (torch default 1e-8). */
  eps?: number;
}

/** Optimiser state for one parameter: moments `m`, `v` (shape of θ) and the step count. */
export interface AdamWState {
  m: tf.Tensor;
  v: tf.Tensor;
  /** Number of steps already taken. */
  step: number;
}

/** Zero moments shaped like `param`. The caller owns (and disposes) `m` and `v`. */
export function initAdamW(param: tf.Tensor): AdamWState {
  return { m: tf.zerosLike(param), v: tf.zerosLike(param), step: 0 };
}

/**
 * One AdamW step (torch.optim.AdamW semantics, step t = state.step + 1):
 * `θ ← θ·(1 - lr·wd)`; `m ← β1 m + (1-β1) g`; `v ← β2 v + (1-β2) g²`;
 * `θ ← θ - lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)`.
 *
 * `active` (same shape as θ, or broadcastable, 0/1) freezes entries where it is 0: their θ, m and v
 * are returned unchanged (used for padding slots and early-stopped items).
 * Pure: returns new tensors and disposes nothing; call inside `tf.tidy` and keep what you need.
 *
 * @param param θ, any shape
 * @param grad dL/dθ, same shape
 * @param state moments and step count
 * @param config lr, betas, weightDecay, eps
 * @param active optional 0/1 mask of entries to update
 */
export function adamWStep(
  param: tf.Tensor,
  grad: tf.Tensor,
  state: AdamWState,
  config: AdamWConfig,
  active?: tf.Tensor,
): { param: tf.Tensor; state: AdamWState } {
  const [b1, b2] = config.betas;
  const eps = config.eps ?? 1e-8;
  const t = state.step + 1;
  const decayed = tf.mul(param, 1 - config.lr * config.weightDecay);
  const m = tf.add(tf.mul(state.m, b1), tf.mul(grad, 1 - b1));
  const v = tf.add(tf.mul(state.v, b2), tf.mul(tf.square(grad), 1 - b2));
  const mHat = tf.div(m, 1 - b1 ** t);
  const denom = tf.add(tf.sqrt(tf.div(v, 1 - b2 ** t)), eps);
  let next = tf.sub(decayed, tf.mul(tf.div(mHat, denom), config.lr));
  if (active === undefined) return { param: next, state: { m, v, step: t } };
  const keep = tf.cast(tf.greater(active, 0.5), 'bool');
  next = tf.where(keep, next, param);
  return {
    param: next,
    state: { m: tf.where(keep, m, state.m), v: tf.where(keep, v, state.v), step: t },
  };
}
