// Per-token log-probs and entropies of given completions under a CausalLM, from one forward pass
// through the public `forward` (so any CausalLM plugs in). Layout as in generation: left-padded
// prompt, then completion, then right padding.
import type { CausalLM } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';

/** Result of {@link completionLogProbs}; Tc = longest completion of the batch. */
export interface CompletionLogProbs {
  /** `[B,Tc]` log p(token) at `temperature`, 0 on padding. Differentiable. */
  logProbs: tf.Tensor2D;
  /** `[B,Tc]` entropy of the temperature-scaled next-token distribution (meaningless on padding). */
  entropy: tf.Tensor2D;
  /** `[B,Tc]` 1 on real completion tokens. */
  mask: tf.Tensor2D;
}

/** Padded completion width Tc of a batch: the longest completion, at least 1. */
export function paddedCompletionLength(completionIds: readonly (readonly number[])[]): number {
  return Math.max(1, ...completionIds.map((x) => x.length));
}

/** Call inside tf.tidy / tf.variableGrads. Every prompt must be non-empty. */
export function completionLogProbs(
  model: CausalLM,
  promptIds: readonly (readonly number[])[],
  completionIds: readonly (readonly number[])[],
  temperature: number,
): CompletionLogProbs {
  const b = promptIds.length;
  const p = Math.max(...promptIds.map((x) => x.length));
  const tc = paddedCompletionLength(completionIds);
  const v = model.config.vocab_size;
  const pad = model.config.pad_token_id ?? 0;
  const w = p + tc;
  const ids = new Int32Array(b * w).fill(pad);
  const attn = new Float32Array(b * w);
  const flatIdx = new Int32Array(b * tc);
  const mask = new Float32Array(b * tc);
  for (let r = 0; r < b; r++) {
    const prompt = promptIds[r]!;
    const comp = completionIds[r]!;
    const off = r * w + p - prompt.length;
    prompt.forEach((id, j) => {
      ids[off + j] = id;
      attn[off + j] = 1;
    });
    comp.forEach((id, j) => {
      ids[r * w + p + j] = id;
      attn[r * w + p + j] = 1;
      mask[r * tc + j] = 1;
      flatIdx[r * tc + j] = (r * tc + j) * v + id;
    });
    for (let j = comp.length; j < tc; j++) flatIdx[r * tc + j] = (r * tc + j) * v; // padding: any valid index
  }
  return tf.tidy(() => {
    const maskT = tf.tensor2d(mask, [b, tc]);
    const logits = model.forward(tf.tensor2d(ids, [b, w], 'int32'), {
      attentionMask: tf.tensor2d(attn, [b, w]),
    }); // [B,P+Tc,V]
    // position P-1+j predicts completion token j
    let scaled = tf.reshape(tf.slice(logits, [0, p - 1, 0], [b, tc, v]), [b * tc, v]); // [B*Tc,V]
    if (temperature > 0 && temperature !== 1) scaled = tf.div(scaled, temperature);
    const logp = tf.logSoftmax(scaled); // [B*Tc,V]
    const picked = tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(flatIdx, 'int32')); // [B*Tc]
    const logProbs = tf.mul(tf.reshape(picked, [b, tc]), maskT) as tf.Tensor2D;
    // entropy is a metric only: nothing differentiates through it
    const entropy = tf.reshape(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)), [
      b,
      tc,
    ]) as tf.Tensor2D;
    return { logProbs, entropy, mask: maskT };
  });
}
