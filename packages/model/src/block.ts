// One Llama decoder block, pre-norm as in nanoGPT's `Block`: x + SelfAttention(RMSNorm(x)), then
// + MLP(RMSNorm(x)), with grouped-query attention through @atmanrl/attention-mask and a SwiGLU MLP.
// Each sub-layer is a function of its own; the stack, the cache and the checks live in llama-model.ts.
import { attention, fusedAttention, matMul, type QueryRows } from '@atmanrl/attention-mask';
import * as tf from '@tensorflow/tfjs-core';
import { recomputeInBackward } from './_internal/fused-recompute.js';
import { fusedRopeHeads } from './_internal/fused-rope.js';
import { fusedRmsNorm, fusedSwiglu, useFusedKernels } from './_internal/fused-webgpu.js';
import type { LlamaConfig } from './config.js';
import { applyRope } from './rope.js';
import type { LlamaLayerWeights } from './weights.js';

/**
 * Root-mean-square norm over the last axis: `x / sqrt(mean(x²) + eps) * w`. x `[..., D]`, w `[D]`.
 * One fused kernel on webgpu (see _internal/fused-webgpu.ts), tfjs ops elsewhere.
 */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  if (useFusedKernels()) return fusedRmsNorm(x, w, eps);
  const ms = tf.mean(tf.square(x), -1, true); // [..., 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** SwiGLU's gate `silu(g) · u`; one fused kernel on webgpu, tfjs ops elsewhere. g, u `[N,I]`. */
function swiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  if (useFusedKernels()) return fusedSwiglu(g, u);
  return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
}

/** A block's weights as plain tensors (variables, or their stand-ins during recomputation). */
export type BlockWeights = Record<keyof LlamaLayerWeights, tf.Tensor>;

/** The weight names of a block, in checkpoint order. */
const BLOCK_WEIGHTS = [
  'inputNorm',
  'q',
  'k',
  'v',
  'o',
  'postNorm',
  'gate',
  'up',
  'down',
] as const satisfies readonly (keyof LlamaLayerWeights)[];

/** What a block reads besides x and its weights (the same for every block of one forward). */
export interface BlockInputs {
  /** RoPE tables `[B|1,1,T,hd]`. */
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
  /** `[B,Tk]` 1 = real key, 0 = padding. */
  keyMask?: tf.Tensor2D;
  /** This block's cached keys / values `[B,Hkv,Tpast,hd]`. */
  pastK?: tf.Tensor4D;
  pastV?: tf.Tensor4D;
  /** `[B,Tk]` AtMan suppression factors. */
  suppress?: tf.Tensor2D;
  /** Query rows that get `bias`. */
  queries?: QueryRows;
  /** `[B,Tk]` AtManRL additive per-key bias (differentiable). */
  bias?: tf.Tensor2D;
  /** Tpast: absolute position of query row 0. */
  past: number;
  /**
   * Output rows `[start, end)` of this call's T rows: the block computes its queries, attention
   * output and MLP for these rows only (every row still gives its keys and values) and returns
   * `[B, end-start, D]`. For the last block when only some rows' hidden states are read.
   */
  rows?: { start: number; end: number };
}

/** The constant tensors of {@link BlockInputs} (queries only when it is a tensor). */
const CONST_INPUTS = ['cos', 'sin', 'keyMask', 'pastK', 'pastV', 'suppress', 'queries'] as const;

/** A block's output and the keys / values it attended over (cache + this call's). */
export interface BlockOutput {
  /** `[B,T,D]` */
  x: tf.Tensor;
  /** `[B,Hkv,Tpast+T,hd]`, after RoPE */
  k: tf.Tensor4D;
  /** `[B,Hkv,Tpast+T,hd]` */
  v: tf.Tensor4D;
}

/**
 * Causal self-attention of one block on normalised input `xn` `[B*T,D]`: q/k/v projections, RoPE,
 * the cached keys and values, the biased attention op, the output projection -> `[B,T,D]`
 * (`[B,R,D]`: the queries of `c.rows` only).
 */
function selfAttention(
  xn: tf.Tensor,
  w: BlockWeights,
  c: BlockInputs,
  cfg: LlamaConfig,
  b: number,
  t: number,
): BlockOutput {
  const h = cfg.num_attention_heads;
  const hkv = cfg.num_key_value_heads;
  const hd = cfg.head_dim;
  // Rows of the input in, heads out: x `[B*R,D]` -> `[B,n,R,hd]` (R = t for keys and values).
  const heads = (x: tf.Tensor, rows: number, proj: tf.Tensor, n: number): tf.Tensor4D =>
    tf.transpose(tf.reshape(matMul(x, proj), [b, rows, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D; // [B,R,n,hd] -> [B,n,R,hd]
  // Heads + RoPE in one kernel on webgpu (see _internal/fused-rope.ts).
  const fusedRope = useFusedKernels() && c.cos.shape[0] === b;
  const rotated = (
    x: tf.Tensor,
    rows: number,
    cos: tf.Tensor4D,
    sin: tf.Tensor4D,
    proj: tf.Tensor,
    n: number,
  ): tf.Tensor4D =>
    fusedRope
      ? fusedRopeHeads(matMul(x, proj), cos, sin, n)
      : applyRope(heads(x, rows, proj, n), cos, sin);
  // Queries of the output rows only (c.rows): their inputs and RoPE tables.
  const r = c.rows;
  const tq = r ? r.end - r.start : t; // query rows R
  const d = xn.shape[1]!;
  const xq = r
    ? tf.reshape(tf.slice(tf.reshape(xn, [b, t, d]), [0, r.start, 0], [b, tq, d]), [b * tq, d])
    : xn; // [B*T,D] -> [B,R,D] -> [B*R,D]
  const cosq = r ? (tf.slice(c.cos, [0, 0, r.start, 0], [-1, -1, tq, -1]) as tf.Tensor4D) : c.cos; // [B|1,1,R,hd]
  const sinq = r ? (tf.slice(c.sin, [0, 0, r.start, 0], [-1, -1, tq, -1]) as tf.Tensor4D) : c.sin;
  const q = rotated(xq, tq, cosq, sinq, w.q, h); // [B,H,R,hd]
  let k = rotated(xn, t, c.cos, c.sin, w.k, hkv); // [B,Hkv,T,hd]
  let v = heads(xn, t, w.v, hkv); // [B,Hkv,T,hd]
  if (c.pastK && c.pastV) {
    k = tf.concat([c.pastK, k], 2) as tf.Tensor4D; // [B,Hkv,Tk,hd], Tk = Tpast+T
    v = tf.concat([c.pastV, v], 2) as tf.Tensor4D; // [B,Hkv,Tk,hd]
  }
  // A [B,T] query-row mask follows the rows kept; a position range is absolute, so it holds.
  const queries =
    r && c.queries instanceof tf.Tensor
      ? (tf.slice(c.queries, [0, r.start], [b, tq]) as tf.Tensor2D)
      : c.queries;
  const options = {
    ...(c.bias ? { bias: c.bias } : {}),
    ...(queries !== undefined ? { queries } : {}),
    ...(c.suppress ? { suppress: c.suppress } : {}),
    ...(c.keyMask ? { keyMask: c.keyMask } : {}),
    queryOffset: c.past + (r?.start ?? 0),
  };
  // One fused kernel on webgpu (AtMan suppression keeps the unfused path).
  const a =
    useFusedKernels() && options.suppress === undefined
      ? fusedAttention(q, k, v, options)
      : attention(q, k, v, options); // [B,H,R,hd] (R = T without rows)
  const merged = tf.reshape(tf.transpose(a, [0, 2, 1, 3]), [b * tq, h * hd]); // [B,R,H,hd] -> [B*R,H*hd]
  const x = tf.reshape(matMul(merged, w.o), [b, tq, cfg.hidden_size]); // [B*R,D] -> [B,R,D]
  return { x, k, v };
}

/** The SwiGLU MLP on normalised input `xn` `[B*T,D]`: `down(silu(gate·xn) · up·xn)` -> `[B*T,D]`. */
function mlp(xn: tf.Tensor, w: BlockWeights): tf.Tensor {
  const gate = matMul(xn, w.gate); // [B*T,I]
  const act = swiglu(gate, matMul(xn, w.up)); // [B*T,I]
  return matMul(act, w.down); // [B*T,D]
}

/**
 * One decoder block: x `[B,T,D]` -> `[B,T,D]` (pre-norm residual attention, then pre-norm residual
 * MLP), with the keys and values its attention read; `[B,R,D]` with `c.rows`. Call in tf.tidy.
 */
export function block(
  x: tf.Tensor,
  w: BlockWeights,
  c: BlockInputs,
  cfg: LlamaConfig,
): BlockOutput {
  const [b, t, d] = x.shape as [number, number, number];
  const xn = tf.reshape(rmsNorm(x, w.inputNorm, cfg.rms_norm_eps), [b * t, d]); // [B,T,D] -> [B*T,D]
  const attn = selfAttention(xn, w, c, cfg, b, t);
  const r = c.rows;
  const tq = r ? r.end - r.start : t;
  const xr = r ? tf.slice(x, [0, r.start, 0], [b, tq, d]) : x; // [B,R,D]
  const x1 = tf.add(xr, attn.x); // [B,R,D]
  const xn2 = tf.reshape(rmsNorm(x1, w.postNorm, cfg.rms_norm_eps), [b * tq, d]); // [B,R,D] -> [B*R,D]
  const out = tf.add(x1, tf.reshape(mlp(xn2, w), [b, tq, d])); // [B*R,D] -> [B,R,D]
  return { x: out, k: attn.k, v: attn.v };
}

/**
 * {@link block} with activation recomputation: only x, the bias and the trainable weights are kept
 * for the backward pass, which runs the block again (see _internal/fused-recompute.ts). Gradients
 * equal those of `block`; the keys and values are not returned (a cache is never extended here).
 */
export function recomputedBlock(
  x: tf.Tensor,
  w: LlamaLayerWeights,
  c: BlockInputs,
  cfg: LlamaConfig,
): tf.Tensor {
  // Differentiable: x, the bias, the trainable weights; the rest are kept as constants.
  const trained = BLOCK_WEIGHTS.filter((n) => w[n].trainable);
  const constNames = CONST_INPUTS.filter((n) => c[n] instanceof tf.Tensor);
  return recomputeInBackward(
    (diff, consts) => {
      const [xi, ...rest] = diff;
      const ci: BlockInputs = { ...c };
      if (c.bias) ci.bias = rest.shift() as tf.Tensor2D;
      const wi: BlockWeights = { ...w };
      trained.forEach((n, i) => {
        wi[n] = rest[i]!;
      });
      constNames.forEach((n, i) => {
        (ci as unknown as Record<string, tf.Tensor>)[n] = consts[i]!;
      });
      return block(xi!, wi, ci, cfg).x;
    },
    [x, ...(c.bias ? [c.bias] : []), ...trained.map((n) => w[n])],
    constNames.map((n) => c[n] as tf.Tensor),
  );
}
