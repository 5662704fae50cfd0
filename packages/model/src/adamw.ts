// AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW: decoupled weight decay applied before the
// Adam step, bias-corrected moments, eps added to sqrt(v̂). The one update of the project: the
// saliency mask fit steps θ with it, and @atmanrl/grpo's `AdamW` class applies it per variable.
// Leaves out amsgrad, maximize, clipping and schedules (grpo has those).
import * as tf from '@tensorflow/tfjs-core';

/** AdamW hyper-parameters, torch.optim.AdamW names (`lr`, `betas`, `eps`, `weight_decay`). */
export interface AdamWConfig {
  /** Learning rate (AtManRL mask fit: 1e-3). */
  lr: number;
  /** (β1, β2) (torch default (0.9, 0.999); AtManRL mask fit: (0.6, 0.9999)). */
  betas: readonly [number, number];
  /** Decoupled weight decay λ: `θ ← θ·(1 − lr·λ)` before the Adam step (0 = none). */
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

/**
 * Zero moments shaped like `param`. The caller owns (and disposes) `m` and `v`.
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { adamWStep, initAdamW } from '@atmanrl/model';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const theta = tf.tensor1d([1, -2]);
 * const state = initAdamW(theta); // m = v = [0, 0], step 0
 * const grad = tf.tensor1d([0.5, 0.1]);
 * const next = adamWStep(theta, grad, state, { lr: 0.1, betas: [0.9, 0.999], weightDecay: 0 });
 * console.log(await next.param.data()); // ≈ [0.9, -2.1]: the first step moves each entry by lr
 * tf.dispose([theta, grad, state.m, state.v, next.param, next.state.m, next.state.v]);
 * ```
 */
export function initAdamW(param: tf.Tensor): AdamWState {
  return { m: tf.zerosLike(param), v: tf.zerosLike(param), step: 0 };
}

/**
 * One AdamW step (torch.optim.AdamW, step t = state.step + 1):
 * `θ ← θ·(1 − lr·λ)`; `m ← β1 m + (1−β1) g`; `v ← β2 v + (1−β2) g²`;
 * `θ ← θ − (lr / (1−β1^t)) · m / (sqrt(v / (1−β2^t)) + eps)`.
 *
 * `active` (same shape as θ, or broadcastable, 0/1) freezes entries where it is 0: their θ, m and v
 * are returned unchanged (the mask fit's padding slots and early-stopped items).
 * Pure: returns new tensors and disposes nothing; call inside `tf.tidy` and keep what you need.
 *
 * @param param θ, any shape
 * @param grad dL/dθ, same shape
 * @param state moments and step count
 * @param config lr, betas, weightDecay, eps
 * @param active optional 0/1 mask of entries to update
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { adamWStep, initAdamW } from '@atmanrl/model';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const theta = tf.tensor1d([1]);
 * const config = { lr: 0.1, betas: [0.9, 0.999] as const, weightDecay: 0.1 };
 * // θ·(1 − 0.1·0.1) = 0.99, then m̂/(√v̂ + eps) = 1: θ = 0.89
 * const [param] = tf.tidy(() => {
 *   const r = adamWStep(theta, tf.tensor1d([0.5]), initAdamW(theta), config);
 *   return [r.param, r.state.m, r.state.v]; // keep the new moments for the next step
 * });
 * console.log(await param!.data()); // ≈ [0.89]
 * ```
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
  const lr = config.lr;
  const t = state.step + 1;
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  const m = tf.add(tf.mul(state.m, b1), tf.mul(grad, 1 - b1));
  const v = tf.add(tf.mul(state.v, b2), tf.mul(tf.square(grad), 1 - b2));
  // λ = 0 leaves θ as is (no multiply by 1: one op less per variable for undecayed gains).
  const decayed = config.weightDecay > 0 ? tf.mul(param, 1 - lr * config.weightDecay) : param;
  const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
  // torch's step size lr / (1 − β1^t) times m (not m̂ times lr): the same value, one op less.
  let next = tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1));
  if (active === undefined) return { param: next, state: { m, v, step: t } };
  const keep = tf.cast(tf.greater(active, 0.5), 'bool');
  next = tf.where(keep, next, param);
  return {
    param: next,
    state: { m: tf.where(keep, m, state.m), v: tf.where(keep, v, state.v), step: t },
  };
}
