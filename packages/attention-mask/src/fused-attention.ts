// Causal attention with the AtManRL per-key bias fused into one webgpu kernel (its kernels are in
// _internal/webgpu-attention.ts): the same op as `attention` in attention.ts, same checks, same
// semantics, fewer launches and no [Tq,Tk] matrix. Leaves out AtMan suppression (callers keep the
// unfused op for it) and every backend but webgpu.
import * as tf from '@tensorflow/tfjs-core';
import { K, registerAttentionKernels } from './_internal/webgpu-attention.js';
import { type AttentionOptions, checkInputs } from './attention.js';
import { AttentionMaskError } from './errors.js';

/** Options of {@link fusedAttention}: those of `attention` without AtMan suppression. */
export type FusedAttentionOptions = Omit<AttentionOptions, 'suppress' | 'suppressShift'>;

/**
 * Causal attention with a per-key bias in one webgpu kernel (5 for the backward), the same function
 * as `attention` without suppression (equal up to float32 summation order): grouped-query
 * heads, query offset, -Infinity bias removes a key, a row with no visible key gives zeros and zero
 * gradient. Inputs are checked as by `attention`. Call only on the webgpu backend, inside `tf.tidy`.
 *
 * @param q `[B,H,Tq,d]` float32
 * @param k `[B,Hkv,Tk,d]` float32, `H % Hkv == 0`
 * @param v `[B,Hkv,Tk,dv]` float32
 * @returns `[B,H,Tq,dv]`
 * @throws AttentionMaskError `SHAPE_MISMATCH` / `INVALID_ARGUMENT` as `attention`, and
 *   `INVALID_ARGUMENT` off webgpu or with `suppress`
 */
export function fusedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: FusedAttentionOptions = {},
): tf.Tensor4D {
  if (tf.getBackend() !== 'webgpu') {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      `fusedAttention runs on webgpu only (current backend ${tf.getBackend()}); use attention()`,
    );
  }
  const suppress = (options as AttentionOptions).suppress;
  if (suppress !== undefined) {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      'fusedAttention has no AtMan suppression; call attention() when options.suppress is set',
    );
  }
  const { b, tq, tk, offset } = checkInputs(q, k, v, options);
  registerAttentionKernels();
  return tf.tidy(() => {
    // Constant [B,Tk+Tq]: key mask (1 = real key) then the rows that get the bias; built in JS
    // and uploaded (no dispatch) unless a mask is a tensor.
    const queries = options.queries;
    const host = new Float32Array(b * (tk + tq));
    for (let r = 0; r < b; r++) {
      const row = r * (tk + tq);
      if (options.keyMask === undefined) host.fill(1, row, row + tk);
      for (let i = 0; i < tq; i++) {
        const pos = offset + i;
        const inRange =
          queries === undefined || queries === 'all'
            ? true
            : queries instanceof tf.Tensor
              ? false
              : pos >= queries.start && pos < queries.end;
        host[row + tk + i] = inRange ? 1 : 0;
      }
    }
    let masks: tf.Tensor = tf.tensor2d(host, [b, tk + tq]);
    if (options.keyMask !== undefined || queries instanceof tf.Tensor) {
      const km = options.keyMask
        ? tf.cast(options.keyMask, 'float32')
        : tf.slice(masks, [0, 0], [b, tk]);
      const rs =
        queries instanceof tf.Tensor
          ? tf.cast(queries, 'float32')
          : tf.slice(masks, [0, tk], [b, tq]);
      masks = tf.concat([km, rs], 1); // [B,Tk+Tq]
    }
    const withBias = options.bias !== undefined;
    const attrs = { offset, withBias };
    const forward = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor): tf.Tensor =>
      tf
        .engine()
        .runKernel(K.forward, { q: qq, k: kk, v: vv, bias: bb, masks }, attrs) as tf.Tensor;
    const backward = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sq, sk, sv, sb, sm, so] = saved as tf.Tensor[];
      return tf
        .engine()
        .runKernel(
          K.grad,
          { q: sq!, k: sk!, v: sv!, bias: sb!, masks: sm!, o: so!, dy },
          attrs,
        ) as tf.Tensor[];
    };
    if (withBias) {
      const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [qq, kk, vv, bb, save] = args as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.GradSaveFunc,
        ];
        const o = forward(qq, kk, vv, bb);
        save([qq, kk, vv, bb, masks, o]);
        return { value: o, gradFunc: backward };
      });
      return op(q, k, v, options.bias!) as tf.Tensor4D;
    }
    const zeros = tf.tensor2d(new Float32Array(b * tk), [b, tk]);
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [qq, kk, vv, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const o = forward(qq, kk, vv, zeros);
      save([qq, kk, vv, zeros, masks, o]);
      return { value: o, gradFunc: backward };
    });
    return op(q, k, v) as tf.Tensor4D;
  });
}
