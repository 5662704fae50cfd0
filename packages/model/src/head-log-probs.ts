// Log-probabilities of given tokens (and the entropy of each row's distribution) through the output
// head, chunked over rows so that at most `[chunkRows, V]` logits exist at a time, forward and
// backward: the gradient recomputes each chunk's logits instead of keeping `[N,V]` for the tape
// (in the spirit of fused linear cross-entropy). With V = 128,256 the full `[N,V]` would be
// ~0.5 MB per row. Leaves out a fused kernel: each chunk is plain matMul / exp / sum ops.
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from './errors.js';

/** Options of {@link headLogProbs}. */
export interface HeadLogProbsOptions {
  /** Logits are divided by this before the softmax (default 1). Must be positive. */
  temperature?: number;
  /** Rows per chunk (default {@link defaultChunkRows}(V)). */
  chunkRows?: number;
}

/** Result of {@link headLogProbs}: both `[N]`, both differentiable. */
export interface HeadLogProbs {
  /** `log softmax(h·W / temperature)[target]` per row. */
  logProbs: tf.Tensor1D;
  /** Entropy `-Σ p log p` (nats) of each row's temperature-scaled distribution. */
  entropy: tf.Tensor1D;
}

/** Bytes of one `[chunkRows, V]` float32 logits block that the default chunk size aims for. */
export const HEAD_CHUNK_BYTES = 32 * 2 ** 20;

/** Default rows per chunk: as many as fit {@link HEAD_CHUNK_BYTES} of float32 logits (at least 1). */
export function defaultChunkRows(vocabSize: number): number {
  return Math.max(1, Math.floor(HEAD_CHUNK_BYTES / (4 * vocabSize)));
}

/**
 * Per-row log-probability of `targets[i]` and entropy under `softmax(hidden · weight / temperature)`,
 * computed `chunkRows` rows at a time. The gradient (w.r.t. `hidden` and `weight`) is exact and
 * analytic: with p = softmax(z), z = h·W/τ, and upstream gradients g (log-probs) and e (entropy),
 * dz = g·onehot(target) − p ⊙ (g + e·(log p + H)); dh = dz·Wᵀ/τ, dW = hᵀ·dz/τ, again chunk by chunk,
 * so neither pass holds `[N,V]`. Values equal the unchunked `logSoftmax(h·W/τ)` within float32
 * rounding. Call inside tf.tidy / tf.variableGrads.
 *
 * @param hidden `[N,D]` final hidden states (after the final norm)
 * @param weight `[D,V]` output head (the embedding table for tied heads)
 * @param targets N token ids in [0, V)
 * @throws ModelError `SHAPE_MISMATCH` / `BAD_ARGUMENT` for inconsistent shapes, ids or options
 */
export function headLogProbs(
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D,
  targets: ArrayLike<number>,
  options: HeadLogProbsOptions = {},
): HeadLogProbs {
  const [n, d] = hidden.shape;
  if (hidden.rank !== 2 || weight.rank !== 2 || weight.shape[0] !== d) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `headLogProbs: hidden [${hidden.shape}] and weight [${weight.shape}], expected [N,D] and [D,V]`,
    );
  }
  const v = weight.shape[1];
  if (targets.length !== n) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `headLogProbs: ${targets.length} targets for N = ${n} rows; expected one per row`,
    );
  }
  const tau = options.temperature ?? 1;
  if (!(tau > 0)) {
    throw new ModelError('BAD_ARGUMENT', `headLogProbs: temperature is ${tau}, expected > 0`);
  }
  const rows = options.chunkRows ?? defaultChunkRows(v);
  if (!Number.isInteger(rows) || rows < 1) {
    throw new ModelError(
      'BAD_ARGUMENT',
      `headLogProbs: chunkRows is ${rows}, expected an integer >= 1`,
    );
  }
  const ids = Int32Array.from(targets);
  for (let i = 0; i < n; i++) {
    if (ids[i]! < 0 || ids[i]! >= v || ids[i] !== targets[i]) {
      throw new ModelError(
        'BAD_ARGUMENT',
        `headLogProbs: target ${targets[i]} in row ${i} is outside [0, ${v})`,
      );
    }
  }
  if (n === 0) {
    return tf.tidy(() => ({
      logProbs: tf.zeros([0]) as tf.Tensor1D,
      entropy: tf.zeros([0]) as tf.Tensor1D,
    }));
  }
  const chunks: [number, number][] = [];
  for (let r0 = 0; r0 < n; r0 += rows) chunks.push([r0, Math.min(rows, n - r0)]);

  /** One chunk's scaled logits z `[Nc,V]`, logsumexp `[Nc,1]` and log p `[Nc,V]`. */
  const chunkLogits = (h: tf.Tensor, w: tf.Tensor, r0: number, nc: number) => {
    const hc = tf.slice(h, [r0, 0], [nc, d]); // [Nc,D]
    let z = tf.matMul(hc, w); // [Nc,V]
    if (tau !== 1) z = tf.div(z, tau);
    const lse = tf.logSumExp(z, 1, true); // [Nc,1]
    return { hc, z, lse, logp: tf.sub(z, lse) };
  };
  const pickIndex = (r0: number, nc: number): tf.Tensor1D => {
    const idx = new Int32Array(nc);
    for (let i = 0; i < nc; i++) idx[i] = i * v + ids[r0 + i]!;
    return tf.tensor1d(idx, 'int32');
  };

  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const h = args[0] as tf.Tensor2D;
    const w = args[1] as tf.Tensor2D;
    const save = args[2] as tf.GradSaveFunc;
    save([h, w]);
    const parts = chunks.map(([r0, nc]) =>
      tf.tidy(() => {
        const { logp } = chunkLogits(h, w, r0, nc);
        const picked = tf.gather(tf.reshape(logp, [-1]), pickIndex(r0, nc)); // [Nc]
        const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)); // [Nc]
        return tf.stack([picked, entropy], 1); // [Nc,2]
      }),
    );
    const value = parts.length === 1 ? parts[0]! : tf.concat(parts, 0); // [N,2]
    if (parts.length > 1) tf.dispose(parts);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sh, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D; // [N,2]
        let dW: tf.Tensor | null = null;
        const dhParts: tf.Tensor[] = [];
        for (const [r0, nc] of chunks) {
          const [dhc, dWc] = tf.tidy(() => {
            const { hc, z, lse, logp } = chunkLogits(sh, sw, r0, nc);
            const p = tf.exp(tf.sub(z, lse)); // [Nc,V]
            const gc = tf.slice(g, [r0, 0], [nc, 2]);
            const gl = tf.slice(gc, [0, 0], [nc, 1]); // [Nc,1] d/d logProb
            const ge = tf.slice(gc, [0, 1], [nc, 1]); // [Nc,1] d/d entropy
            const ent = tf.neg(tf.sum(tf.mul(p, logp), 1, true)); // [Nc,1]
            // (cast: wasm's OneHot ignores its dtype argument and returns int32 bits)
            const onehot = tf.cast(
              tf.oneHot(tf.tensor1d(ids.subarray(r0, r0 + nc), 'int32'), v),
              'float32',
            ); // [Nc,V]
            let dz = tf.sub(
              tf.mul(onehot, gl),
              tf.mul(p, tf.add(gl, tf.mul(ge, tf.add(logp, ent)))),
            ); // [Nc,V]
            if (tau !== 1) dz = tf.div(dz, tau);
            // Plain products with explicit transposes (transposed matMul is slow on wasm).
            const dh = tf.transpose(tf.matMul(sw, tf.transpose(dz))); // [Nc,D]
            return [dh, tf.matMul(tf.transpose(hc), dz)]; // [Nc,D], [D,V]
          });
          dhParts.push(dhc!);
          if (dW === null) dW = dWc!;
          else {
            const sum: tf.Tensor = tf.add(dW, dWc!);
            dW.dispose();
            dWc!.dispose();
            dW = sum;
          }
        }
        const dh = dhParts.length === 1 ? dhParts[0]! : tf.concat(dhParts, 0);
        if (dhParts.length > 1) tf.dispose(dhParts);
        return [dh, dW!];
      },
    };
  });
  return tf.tidy(() => {
    const out = fused(hidden, weight); // [N,2]
    return {
      logProbs: tf.reshape(tf.slice(out, [0, 0], [n, 1]), [n]) as tf.Tensor1D,
      entropy: tf.reshape(tf.slice(out, [0, 1], [n, 1]), [n]) as tf.Tensor1D,
    };
  });
}
