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
 * `weight` may be given as vocab blocks `[D,V_k]` (a {@link VocabMatrix}'s `blocks`, split where a
 * device limit binds): then each chunk's log-sum-exp runs across the blocks
 * (log Σ_k exp(lse_k)), the target's logit comes from the block holding it, the entropy sums
 * over the blocks, and each block gets its own gradient. One block is the plain case.
 *
 * @param hidden `[N,D]` final hidden states (after the final norm)
 * @param weight `[D,V]` output head (the embedding table for tied heads), or its blocks `[D,V_k]`
 *   in vocab order
 * @param targets N token ids in [0, V)
 * @throws ModelError `SHAPE_MISMATCH` / `BAD_ARGUMENT` for inconsistent shapes, ids or options
 */
export function headLogProbs(
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D | readonly tf.Tensor2D[],
  targets: ArrayLike<number>,
  options: HeadLogProbsOptions = {},
): HeadLogProbs {
  const blocks: readonly tf.Tensor2D[] = Array.isArray(weight) ? weight : [weight as tf.Tensor2D];
  const [n, d] = hidden.shape;
  if (
    hidden.rank !== 2 ||
    blocks.length === 0 ||
    blocks.some((w) => w.rank !== 2 || w.shape[0] !== d)
  ) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `headLogProbs: hidden [${hidden.shape}] and weight ${blocks.map((w) => `[${w.shape}]`).join(', ') || '(no blocks)'}, expected [N,D] and [D,V] (or blocks [D,V_k])`,
    );
  }
  const offsets: number[] = [];
  let v = 0;
  for (const w of blocks) {
    offsets.push(v);
    v += w.shape[1];
  }
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
  const k = blocks.length;
  /** Block holding each target, and the target's column inside it. */
  const blockOf = new Int32Array(n);
  const localId = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = k - 1;
    while (offsets[b]! > ids[i]!) b--;
    blockOf[i] = b;
    localId[i] = ids[i]! - offsets[b]!;
  }

  /** One chunk's scaled logits z_k `[Nc,V_k]` per block and the log-sum-exp `[Nc,1]` over all V. */
  const chunkLogits = (h: tf.Tensor, ws: tf.Tensor[], r0: number, nc: number) => {
    const hc = tf.slice(h, [r0, 0], [nc, d]); // [Nc,D]
    const zs = ws.map((w) => {
      const z = tf.matMul(hc, w); // [Nc,V_k]
      return tau !== 1 ? tf.div(z, tau) : z;
    });
    const lse =
      k === 1
        ? tf.logSumExp(zs[0]!, 1, true) // [Nc,1]
        : tf.logSumExp(
            tf.concat(
              zs.map((z) => tf.logSumExp(z, 1, true)),
              1,
            ), // [Nc,K]
            1,
            true,
          ); // [Nc,1]
    return { hc, zs, lse, logps: zs.map((z) => tf.sub(z, lse)) }; // log p_k [Nc,V_k]
  };
  /** z at the targets of rows r0..r0+nc that fall in block b: flat indices and a 0/1 row mask. */
  const pickIn = (b: number, r0: number, nc: number) => {
    const width = blocks[b]!.shape[1];
    const idx = new Int32Array(nc);
    const mask = new Float32Array(nc);
    let count = 0;
    for (let i = 0; i < nc; i++) {
      const inside = blockOf[r0 + i] === b;
      idx[i] = i * width + (inside ? localId[r0 + i]! : 0);
      mask[i] = inside ? 1 : 0;
      if (inside) count++;
    }
    return { idx, mask, count };
  };
  /** Log-prob of each row's target `[Nc]`: from the block that holds it. */
  const pickedLogProb = (logps: tf.Tensor[], r0: number, nc: number): tf.Tensor => {
    let sum: tf.Tensor | null = null;
    logps.forEach((lp, b) => {
      const { idx, mask, count } = pickIn(b, r0, nc);
      if (count === 0) return;
      let picked = tf.gather(tf.reshape(lp, [-1]), tf.tensor1d(idx, 'int32')); // [Nc]
      if (count < nc) picked = tf.mul(picked, tf.tensor1d(mask));
      sum = sum === null ? picked : tf.add(sum, picked);
    });
    return sum!;
  };
  /** −Σ_k Σ_j p log p over the blocks: `[Nc,1]`. */
  const entropyOf = (logps: tf.Tensor[]): tf.Tensor => {
    const parts = logps.map((lp) => tf.sum(tf.mul(tf.exp(lp), lp), 1, true)); // [Nc,1] each
    return tf.neg(parts.length === 1 ? parts[0]! : tf.addN(parts));
  };

  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const h = args[0] as tf.Tensor2D;
    const ws = args.slice(1, 1 + k) as tf.Tensor2D[];
    const save = args[1 + k] as tf.GradSaveFunc;
    save([h, ...ws]);
    const parts = chunks.map(([r0, nc]) =>
      tf.tidy(() => {
        const { logps } = chunkLogits(h, ws, r0, nc);
        const picked = pickedLogProb(logps, r0, nc); // [Nc]
        const entropy = tf.reshape(entropyOf(logps), [nc]); // [Nc]
        return tf.stack([picked, entropy], 1); // [Nc,2]
      }),
    );
    const value = parts.length === 1 ? parts[0]! : tf.concat(parts, 0); // [N,2]
    if (parts.length > 1) tf.dispose(parts);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const sh = saved[0] as tf.Tensor2D;
        const sws = saved.slice(1) as tf.Tensor2D[];
        const g = dy as tf.Tensor2D; // [N,2]
        const dWs: (tf.Tensor | null)[] = sws.map(() => null);
        const dhParts: tf.Tensor[] = [];
        for (const [r0, nc] of chunks) {
          const [dhc, ...dWcs] = tf.tidy(() => {
            const { hc, logps } = chunkLogits(sh, sws, r0, nc);
            const ps = logps.map((lp) => tf.exp(lp)); // [Nc,V_k]
            const gc = tf.slice(g, [r0, 0], [nc, 2]);
            const gl = tf.slice(gc, [0, 0], [nc, 1]); // [Nc,1] d/d logProb
            const ge = tf.slice(gc, [0, 1], [nc, 1]); // [Nc,1] d/d entropy
            const ent = tf.neg(tf.addN(ps.map((p, b) => tf.sum(tf.mul(p, logps[b]!), 1, true)))); // [Nc,1]
            const hcT = tf.transpose(hc); // [D,Nc]
            let dh: tf.Tensor | null = null;
            const dWc = sws.map((w, b) => {
              // Target columns inside block b (-1: none, a zero one-hot row).
              const local = new Int32Array(nc);
              for (let i = 0; i < nc; i++) local[i] = blockOf[r0 + i] === b ? localId[r0 + i]! : -1;
              // (cast: wasm's OneHot ignores its dtype argument and returns int32 bits)
              const onehot = tf.cast(tf.oneHot(tf.tensor1d(local, 'int32'), w.shape[1]), 'float32'); // [Nc,V_k]
              let dz = tf.sub(
                tf.mul(onehot, gl),
                tf.mul(ps[b]!, tf.add(gl, tf.mul(ge, tf.add(logps[b]!, ent)))),
              ); // [Nc,V_k]
              if (tau !== 1) dz = tf.div(dz, tau);
              // Plain products with explicit transposes (transposed matMul is slow on wasm).
              const dhb = tf.transpose(tf.matMul(w, tf.transpose(dz))); // [Nc,D]
              dh = dh === null ? dhb : tf.add(dh, dhb);
              return tf.matMul(hcT, dz); // [D,V_k]
            });
            return [dh!, ...dWc]; // [Nc,D], [D,V_k] per block
          });
          dhParts.push(dhc!);
          dWcs.forEach((dWc, b) => {
            const prev = dWs[b]!;
            if (prev === null) dWs[b] = dWc;
            else {
              dWs[b] = tf.add(prev, dWc);
              prev.dispose();
              dWc.dispose();
            }
          });
        }
        const dh = dhParts.length === 1 ? dhParts[0]! : tf.concat(dhParts, 0);
        if (dhParts.length > 1) tf.dispose(dhParts);
        return [dh, ...(dWs as tf.Tensor[])];
      },
    };
  });
  return tf.tidy(() => {
    const out = fused(hidden, ...blocks); // [N,2]
    return {
      logProbs: tf.reshape(tf.slice(out, [0, 0], [n, 1]), [n]) as tf.Tensor1D,
      entropy: tf.reshape(tf.slice(out, [0, 1], [n, 1]), [n]) as tf.Tensor1D,
    };
  });
}
