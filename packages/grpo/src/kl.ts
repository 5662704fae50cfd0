// The k3 estimator of KL(π_θ || π_ref) per token (Schulman, "Approximating KL divergence", 2020),
// the estimator DeepSeekMath's GRPO and TRL use. Leaves out the reference model itself.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Per-token `k3 = exp(ref - logp) - (ref - logp) - 1`: unbiased for KL(π_θ||π_ref) under samples
 * from π_θ, always ≥ 0, exactly 0 where the two log-probs agree. Differentiable w.r.t. `logProbs`.
 * @param logProbs `[B,T]` log-probs of the sampled tokens under the policy
 * @param refLogProbs `[B,T]` the same tokens under the frozen reference
 * @returns `[B,T]` (padding positions are not masked; multiply by the mask)
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { k3Kl } from '@atmanrl/grpo';
 * import * as tf from '@tensorflow/tfjs-core';
 * await initBackend({ prefer: 'cpu' });
 * const kl = k3Kl(tf.tensor2d([[-1, -2]]), tf.tensor2d([[-1, -1]])); // policy, reference [B,T]
 * console.log(await kl.data()); // [0, e − 2 ≈ 0.718]: 0 where they agree
 * ```
 */
export function k3Kl(logProbs: tf.Tensor2D, refLogProbs: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const d = tf.sub(refLogProbs, logProbs); // [B,T]
    return tf.sub(tf.sub(tf.exp(d), d), 1) as tf.Tensor2D;
  });
}
