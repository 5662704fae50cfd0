// Softmax over the last axis with an additive mask, safe for rows with no visible key.
// Leaves out temperature and log-softmax.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Finite stand-in for -Infinity. exp(MASKED - m) underflows to exactly 0 in float32, so results
 * equal those of a -Infinity mask, while sums and products stay finite (no NaN in gradients).
 * Broadcast `where`/`tile` are avoided on purpose: wasm runs them ~50x slower than a broadcast add.
 */
export const MASKED = -1e30;
/** A row whose largest logit is below this has no visible key. */
const DEAD_ROW = -1e29;

/**
 * p = softmax(logits + maskAdd) over the last axis; a row whose every entry is masked (≤ -1e29)
 * gets p = 0 everywhere instead of a uniform distribution.
 *
 * A custom gradient keeps the dead-row comparison off the autodiff tape; the backward pass is the
 * analytic one, dL/dlogits = p ⊙ (g − Σ_j g_j p_j), which is 0 wherever p = 0.
 *
 * @param logits [..., Tq, Tk] float32, finite (clamp -Infinity to {@link MASKED} first)
 * @param maskAdd 0 / {@link MASKED}, broadcastable to `logits`, or null (all visible); constant
 * @param mayHaveDeadRows false when every row is known to keep a visible key (skips a pass)
 */
export function maskedSoftmax(
  logits: tf.Tensor,
  maskAdd: tf.Tensor | null,
  mayHaveDeadRows: boolean,
): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const p = tf.tidy(() => {
      const masked = maskAdd === null ? x : tf.add(x, maskAdd); // [..., Tq, Tk]
      const probs = tf.softmax(masked);
      if (!mayHaveDeadRows) return probs;
      const alive = tf.cast(tf.greater(tf.max(masked, -1, true), tf.scalar(DEAD_ROW)), 'float32');
      return tf.mul(probs, alive); // [..., Tq, Tk] · [..., Tq, 1]
    });
    save([p]);
    return {
      value: p,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sp] = saved as [tf.Tensor];
        const gp = tf.mul(dy, sp);
        return [tf.sub(gp, tf.mul(sp, tf.sum(gp, -1, true)))];
      },
    };
  });
  return op(logits);
}
