// Per-token log-probs and entropies of given completions under a CausalLM, from one pass through
// the public `hiddenStates` and the chunked `headLogProbs` (so any CausalLM plugs in): the head
// runs on the B·Tc completion rows only and never holds [B,Tc,V] logits for the backward pass.
// Layout as in generation: left-padded prompt, then completion, then right padding.
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
  const pad = model.config.pad_token_id ?? 0;
  const w = p + tc;
  const ids = new Int32Array(b * w).fill(pad);
  const attn = new Float32Array(b * w);
  const targets = new Int32Array(b * tc); // padding rows: any valid id (masked out)
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
      targets[r * tc + j] = id;
    });
  }
  const d = model.config.hidden_size;
  return tf.tidy(() => {
    const maskT = tf.tensor2d(mask, [b, tc]);
    const hidden = model.hiddenStates(tf.tensor2d(ids, [b, w], 'int32'), {
      attentionMask: tf.tensor2d(attn, [b, w]),
    }); // [B,P+Tc,D]
    // position P-1+j predicts completion token j
    const rows = tf.reshape(tf.slice(hidden, [0, p - 1, 0], [b, tc, d]), [b * tc, d]); // [B*Tc,D]
    const out = model.headLogProbs(rows as tf.Tensor2D, targets, {
      temperature: temperature > 0 ? temperature : 1,
    }); // [B*Tc] each
    const logProbs = tf.mul(tf.reshape(out.logProbs, [b, tc]), maskT) as tf.Tensor2D;
    const entropy = tf.reshape(out.entropy, [b, tc]) as tf.Tensor2D;
    return { logProbs, entropy, mask: maskT };
  });
}
