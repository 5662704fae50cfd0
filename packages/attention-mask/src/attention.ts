// Causal scaled-dot-product attention with grouped-query heads, a query-position offset (KV cache),
// an additive per-key bias (AtManRL, method.md §1), AtMan's multiplicative suppression and key
// padding. Leaves out dropout and sliding windows; the fused webgpu kernel of this op (no
// suppression) is fused-attention.ts.
import * as tf from '@tensorflow/tfjs-core';
import './_internal/gradients.js';
import { expectFloat, expectInt, expectShape } from './_internal/check.js';
import { MASKED, maskedSoftmax } from './_internal/masked-softmax.js';
import { AttentionMaskError } from './errors.js';
import { matMul } from './matmul.js';

/**
 * Query rows that receive `bias`: all rows, the rows whose absolute position p lies in the
 * key-position range `[start, end)`, or a 0/1 mask `[B,Tq]` (1 = row gets the bias).
 */
export type QueryRows = 'all' | { start: number; end: number } | tf.Tensor2D;

/** Options of {@link attention}. All tensors are constants except `bias` (differentiable). */
export interface AttentionOptions {
  /**
   * `[B,Tk]` additive per-key bias in logit units, added to the scaled scores of the rows chosen
   * by `queries` (0 = unchanged, -Infinity = key removed). Differentiable.
   */
  bias?: tf.Tensor2D;
  /** Which query rows get `bias` (default `'all'`). */
  queries?: QueryRows;
  /**
   * `[B,Tk]` AtMan multiplicative factors in [0,1] (1 = untouched); see {@link suppressionFactors}.
   * Each score row is shifted so its minimum is 0, then column j is multiplied by `suppress[b,j]`,
   * before the causal/padding mask (AtMan's reference code).
   */
  suppress?: tf.Tensor2D;
  /**
   * Which keys the row minimum of the suppression shift is taken over: `'all-keys'` (default,
   * AtMan's reference code: the whole row before any mask, so future keys take part) or
   * `'visible-keys'` (only keys the row may attend to; keeps outputs causal under suppression).
   */
  suppressShift?: 'all-keys' | 'visible-keys';
  /** Absolute position of query row 0, an integer in [0, Tk-Tq] (default `Tk - Tq`). */
  queryOffset?: number;
  /** `[B,Tk]` 1 = real key, 0 = padding (never attended). */
  keyMask?: tf.Tensor2D;
}

/**
 * Causal scaled-dot-product attention:
 * `softmax_j(q_i·k_j/√d [AtMan shift·suppress] + bias[b,j] + causal(i,j) + pad(b,j)) · v_j`.
 *
 * Query row i sits at absolute position `p = queryOffset + i` and sees keys `j <= p` with
 * `keyMask[b,j] = 1`. Query head h uses key/value head `floor(h / (H/Hkv))` (grouped-query
 * attention, Hugging Face `repeat_kv` order). A row with no visible key (all masked, or every
 * visible key removed by a -Infinity bias) outputs zeros with zero gradient, never NaN.
 * Gradients with respect to q, k, v and `bias` are exact. Call inside `tf.tidy`.
 *
 * @param q queries `[B,H,Tq,d]`, float32
 * @param k keys `[B,Hkv,Tk,d]`, float32, `H % Hkv == 0`
 * @param v values `[B,Hkv,Tk,dv]`, float32
 * @param options bias, queries, suppress, queryOffset, keyMask (see {@link AttentionOptions})
 * @returns `[B,H,Tq,dv]`
 * @throws AttentionMaskError `SHAPE_MISMATCH` / `INVALID_ARGUMENT` naming the bad argument
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: AttentionOptions = {},
): tf.Tensor4D {
  const dims = checkInputs(q, k, v, options);
  const { b, h, hkv, tq, tk, d, dv } = dims;
  const groups = h / hkv;
  return tf.tidy(() => {
    const maskAdd = buildMaskAdd(dims, options.keyMask); // [B|1,1,Tq,Tk] 0 / MASKED, or null
    // GQA without repeating k/v: query heads of one kv head are contiguous (h = hkv*G + g).
    const qs = tf.mul(q, tf.scalar(1 / Math.sqrt(d))); // [B,H,Tq,d], scaled before the product
    const qg = tf.reshape(qs, [b, hkv, groups * tq, d]); // [B,Hkv,G*Tq,d]
    // q·kᵀ: an explicit transpose on wasm/cpu, a transpose flag on webgpu (matmul.ts).
    let scores = tf.reshape(matMul(qg, k, false, true), [b, h, tq, tk]); // [B,H,Tq,Tk]

    if (options.suppress !== undefined) {
      // AtMan (method.md §1): shift each row so its minimum is 0, then scale suppressed columns.
      const overVisible = (options.suppressShift ?? 'all-keys') === 'visible-keys';
      // Subtracting MASKED lifts hidden keys to +1e30 so the minimum ignores them.
      const forMin = overVisible && maskAdd !== null ? tf.sub(scores, maskAdd) : scores;
      const rowMin = tf.min(forMin, -1, true); // [B,H,Tq,1]
      const factors = tf.reshape(options.suppress, [b, 1, 1, tk]);
      scores = tf.mul(tf.sub(scores, rowMin), factors);
    }

    if (options.bias !== undefined) {
      // -Infinity -> MASKED keeps every later sum/product finite (the gradient of maximum is 0
      // there); -Infinity * 0 would otherwise give NaN on the rows without bias.
      let biasTerm = tf.maximum(tf.reshape(options.bias, [b, 1, 1, tk]), tf.scalar(MASKED));
      const rows = buildRowSelection(dims, options.queries); // float [B|1,1,Tq,1] or null
      if (rows !== null) biasTerm = tf.mul(biasTerm, rows); // [B|1,1,Tq,Tk]
      scores = tf.add(scores, biasTerm);
    }

    const mayHaveDeadRows = options.keyMask !== undefined || options.bias !== undefined;
    const probs = maskedSoftmax(scores, maskAdd, mayHaveDeadRows); // [B,H,Tq,Tk]
    const pg = tf.reshape(probs, [b, hkv, groups * tq, tk]); // [B,Hkv,G*Tq,Tk]
    return tf.reshape(matMul(pg, v), [b, h, tq, dv]) as tf.Tensor4D; // [B,H,Tq,dv]
  });
}

/** The sizes of one attention call, read off its checked inputs (shared with fused-attention.ts). */
export interface Dims {
  b: number;
  h: number;
  hkv: number;
  tq: number;
  tk: number;
  d: number;
  dv: number;
  offset: number;
}

/**
 * Checks q, k, v and the options of an attention call (shapes, dtypes, offsets, query rows) and
 * returns their sizes; the one boundary check of `attention` and `fusedAttention`.
 * @throws AttentionMaskError `SHAPE_MISMATCH` / `INVALID_ARGUMENT` naming the bad argument
 */
export function checkInputs(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions,
): Dims {
  if (q.rank !== 4) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `q has shape [${q.shape.join(',')}], expected rank 4 [B,H,Tq,d]`,
    );
  }
  const [b, h, tq, d] = q.shape as [number, number, number, number];
  if (k.rank !== 4) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `k has shape [${k.shape.join(',')}], expected rank 4 [B,Hkv,Tk,d]`,
    );
  }
  const hkv = k.shape[1]!;
  const tk = k.shape[2]!;
  expectShape('k', k, ['B', 'Hkv', 'Tk', 'd'], [b, hkv, tk, d]);
  if (hkv === 0 || h % hkv !== 0) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `q has H = ${h} heads and k has Hkv = ${hkv}; H must be a multiple of Hkv (grouped-query attention)`,
    );
  }
  if (v.rank !== 4) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `v has shape [${v.shape.join(',')}], expected rank 4 [B,Hkv,Tk,dv]`,
    );
  }
  const dv = v.shape[3]!;
  expectShape('v', v, ['B', 'Hkv', 'Tk', 'dv'], [b, hkv, tk, dv]);
  expectFloat('q', q);
  expectFloat('k', k);
  expectFloat('v', v);
  const offset = options.queryOffset ?? tk - tq;
  if (tq > tk) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `q has Tq = ${tq} rows but k has only Tk = ${tk} keys; expected Tq <= Tk`,
    );
  }
  expectInt('queryOffset', offset, 0, tk - tq);
  for (const name of ['bias', 'suppress', 'keyMask'] as const) {
    const t = options[name];
    if (t !== undefined) {
      expectShape(name, t, ['B', 'Tk'], [b, tk]);
      // keyMask may be int32/bool like a Hugging Face attention_mask; the others are values.
      if (name !== 'keyMask') expectFloat(name, t);
    }
  }
  const queries = options.queries;
  if (queries !== undefined && queries !== 'all') {
    if (isRange(queries)) {
      expectInt('queries.start', queries.start, 0, Number.MAX_SAFE_INTEGER);
      expectInt('queries.end', queries.end, queries.start, Number.MAX_SAFE_INTEGER);
    } else {
      expectShape('queries', queries, ['B', 'Tq'], [b, tq]);
    }
  }
  if (
    options.suppressShift !== undefined &&
    !['all-keys', 'visible-keys'].includes(options.suppressShift)
  ) {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      `suppressShift is ${String(options.suppressShift)}, expected 'all-keys' or 'visible-keys'`,
    );
  }
  return { b, h, hkv, tq, tk, d, dv, offset };
}

function isRange(x: QueryRows): x is { start: number; end: number } {
  return typeof x === 'object' && !(x instanceof tf.Tensor) && 'start' in x;
}

/**
 * Additive mask [B|1,1,Tq,Tk]: 0 where key j is visible from row i (j <= offset+i and
 * keyMask[b,j] = 1), MASKED elsewhere; null when every key is visible. Built with arithmetic, not
 * where(): broadcast where/tile are very slow on wasm.
 */
function buildMaskAdd(dims: Dims, keyMask: tf.Tensor2D | undefined): tf.Tensor | null {
  const { b, tq, tk, offset } = dims;
  // Row 0 sees keys 0..offset; when that is all of them, causality hides nothing.
  if (offset >= tk - 1 && keyMask === undefined) return null;
  // The causal part depends on shapes only: fill it in JS (a broadcast compare is slow on wasm).
  const causal = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) causal.fill(1, i * tk, i * tk + Math.min(tk, offset + i + 1));
  let visible: tf.Tensor = tf.tensor4d(causal, [1, 1, tq, tk]); // 1 = visible
  if (keyMask !== undefined) {
    const real = tf.cast(tf.greater(tf.cast(keyMask, 'float32'), tf.scalar(0.5)), 'float32');
    visible = tf.mul(visible, tf.reshape(real, [b, 1, 1, tk])); // [B,1,Tq,Tk]
  }
  return tf.mul(tf.sub(tf.scalar(1), visible), tf.scalar(MASKED));
}

/** float 0/1 [B|1,1,Tq,1]: rows that get the bias, or null for all rows. */
function buildRowSelection(dims: Dims, queries: QueryRows | undefined): tf.Tensor | null {
  const { b, tq, offset } = dims;
  if (queries === undefined || queries === 'all') return null;
  if (isRange(queries)) {
    const pos = tf.range(offset, offset + tq, 1, 'int32'); // [Tq] absolute positions
    const inRange = tf.logicalAnd(
      tf.greaterEqual(pos, tf.scalar(queries.start, 'int32')),
      tf.less(pos, tf.scalar(queries.end, 'int32')),
    );
    return tf.reshape(tf.cast(inRange, 'float32'), [1, 1, tq, 1]);
  }
  const sel = tf.cast(tf.greater(tf.cast(queries, 'float32'), tf.scalar(0.5)), 'float32');
  return tf.reshape(sel, [b, 1, tq, 1]);
}
