// The teacher-forced gold-answer cross-entropy of a batch under an attention bias / suppression /
// input embeddings, with the prompt prefix optionally served from a KV cache computed once.
// Owns its constant tensors and the cache; dispose() frees them.
import { matMul } from '@atmanrl/attention-mask';
import type { CausalLM, ForwardOptions, KVCache } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { type BatchLayout, fullIds } from './layout.js';

/** Options of {@link createObjective}. */
export interface ObjectiveOptions {
  /** Serve prompt[:-1] from a KV cache computed once (default true). */
  prefixReuse: boolean;
  /** Query rows that get the bias: every row, or only the rows whose logits enter the loss. */
  queries: 'all' | 'answer';
}

/** A per-item gold-CE function over one fixed batch layout. */
export interface Objective {
  readonly layout: BatchLayout;
  /** Total key columns T = P-1+S (width of every bias / suppression tensor). */
  readonly keyLen: number;
  /**
   * Per-item mean gold-answer CE `[B]` (nats/token). Synchronous; call inside tf.tidy / tf.grad.
   * @param perturb `bias` and/or `suppress`, each `[B,T]`
   */
  perItemCe(perturb?: { bias?: tf.Tensor2D; suppress?: tf.Tensor2D }): tf.Tensor1D;
  /** Like perItemCe but from full-sequence input embeddings `[B,T,D]` (needs prefixReuse false). */
  perItemCeFromEmbeds(embeds: tf.Tensor3D): tf.Tensor1D;
  /** Full-sequence ids `[B,T]` int32 (a new tensor; caller disposes). */
  fullInputIds(): tf.Tensor2D;
  /** `[B,T]` bias `scale · min(θ,0)` on CoT key columns, 0 elsewhere. θ `[B,Cmax]`. Differentiable. */
  biasFromTheta(theta: tf.Tensor2D, scale: number): tf.Tensor2D;
  dispose(): void;
}

/** Builds the objective for `layout`; runs the prefix forward once when reusing the prefix. */
export function createObjective(
  model: CausalLM,
  layout: BatchLayout,
  options: ObjectiveOptions,
): Objective {
  const { batch: b, prefixLen, suffixLen: s, cotMax } = layout;
  const t = prefixLen + s;
  const v = model.config.vocab_size;
  const reuse = options.prefixReuse && prefixLen > 0;
  const tq = reuse ? s : t; // query rows of the recomputed part
  const rowOffset = reuse ? 0 : prefixLen; // suffix row r sits at query row rowOffset + r
  const n = layout.lossRows.length;
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(x: T): T => {
    owned.push(x);
    return x;
  };
  // Only the loss rows' hidden states are read: the forward returns rows [first, last] of every
  // item (outputRows; the last layer computes its queries, attention and MLP for those only). The
  // layout puts every item's answer after Cmax CoT slots, so the loss rows share one short range
  // (every item has a gold answer: checkItems).
  const outputRows = {
    start: rowOffset + Math.min(...layout.lossRows),
    end: rowOffset + Math.max(...layout.lossRows) + 1,
  };
  const tr = outputRows.end - outputRows.start; // rows returned per item
  const flatRows = new Int32Array(n);
  const weights = new Float32Array(b * n); // [B,N]: 1/|A_b| on item b's loss rows
  const queryMask = new Float32Array(b * tq);
  for (let i = 0; i < n; i++) {
    const item = layout.lossItem[i]!;
    const row = rowOffset + layout.lossRows[i]!;
    flatRows[i] = item * tr + row - outputRows.start;
    weights[item * n + i] = 1 / layout.answerLens[item]!;
    queryMask[item * tq + row] = 1;
  }
  const attentionMask = keep(tf.tensor2d(layout.attentionMask, [b, t]));
  const inputIds = keep(
    reuse
      ? tf.tensor2d(layout.suffixIds, [b, s], 'int32')
      : tf.tensor2d(fullIds(layout), [b, t], 'int32'),
  );
  const lossIndex = keep(tf.tensor1d(flatRows, 'int32'));
  const targets = keep(
    tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(layout.lossTargets, 'int32'), v), 'float32')),
  ) as tf.Tensor2D; // [N,V]
  const itemWeights = keep(tf.tensor2d(weights, [b, n]));
  const answerQueries =
    options.queries === 'answer' ? keep(tf.tensor2d(queryMask, [b, tq])) : undefined;
  const cotMask = keep(tf.tensor2d(layout.cotMask, [b, cotMax]));
  let cache: KVCache | undefined;
  if (reuse) {
    cache = model.createCache(b);
    const c = cache;
    tf.tidy(() => {
      model.hiddenStates(tf.tensor2d(layout.prefixIds, [b, prefixLen], 'int32'), {
        cache: c,
        attentionMask: tf.slice(attentionMask, [0, 0], [b, prefixLen]) as tf.Tensor2D,
      });
    });
  }

  // The head runs on the N loss rows only (hidden states -> gather -> head): [N,V] logits instead
  // of [B,Tq,V], so its cost scales with the answer length, not the sequence length.
  const ceFromHidden = (hidden: tf.Tensor3D): tf.Tensor1D => {
    const d = hidden.shape[2];
    const rows = tf.gather(tf.reshape(hidden, [b * tr, d]), lossIndex); // [B,R,D] -> [B*R,D] -> [N,D]
    const logits = tf.reshape(model.head(tf.reshape(rows, [1, n, d]) as tf.Tensor3D), [n, v]); // [N,V]
    const logp = tf.logSoftmax(logits); // [N,V]
    const nll = tf.neg(tf.sum(tf.mul(logp, targets), 1, true)); // [N,1]
    return tf.reshape(matMul(itemWeights, nll), [b]) as tf.Tensor1D; // [B]
  };
  const baseOptions = (): ForwardOptions => ({
    attentionMask: attentionMask as tf.Tensor2D,
    outputRows,
    ...(answerQueries ? { queries: answerQueries as tf.Tensor2D } : {}),
    ...(cache ? { cache, updateCache: false } : {}),
  });

  return {
    layout,
    keyLen: t,
    perItemCe(perturb = {}) {
      return tf.tidy(() => {
        const hidden = model.hiddenStates(inputIds as tf.Tensor2D, {
          ...baseOptions(),
          ...(perturb.bias ? { attentionBias: perturb.bias } : {}),
          ...(perturb.suppress ? { suppress: perturb.suppress } : {}),
        }); // [B,R,D]
        return ceFromHidden(hidden);
      });
    },
    perItemCeFromEmbeds(embeds) {
      return tf.tidy(() =>
        ceFromHidden(model.hiddenStates(null, { ...baseOptions(), inputEmbeds: embeds })),
      );
    },
    fullInputIds() {
      return tf.tensor2d(fullIds(layout), [b, t], 'int32');
    },
    biasFromTheta(theta, scale) {
      return tf.tidy(() => {
        const cot = tf.mul(tf.mul(tf.minimum(theta, 0), scale), cotMask); // [B,Cmax]
        const before = tf.zeros([b, prefixLen + 1]); // prompt keys (incl. the last prompt token)
        const after = tf.zeros([b, t - prefixLen - 1 - cotMax]); // delimiter, answer, pads
        return tf.concat([before, cot, after], 1) as tf.Tensor2D; // [B,T]
      });
    },
    dispose() {
      cache?.dispose();
      for (const x of owned) x.dispose();
    },
  };
}
