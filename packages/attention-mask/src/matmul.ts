// Matmul formulated per backend. On wasm/cpu, forward and backward only call plain
// (non-transposed) `tf.matMul`: wasm runs `matMul(a, b, transposeA, transposeB)` on a naive kernel
// ~10x slower (toolchain.md), and a batched product per batch entry. On webgpu
// a choice between that and one batched `tf.matMul` with transpose flags and tfjs' own gradient,
// made from measurements (README "GPU (WebGPU via Dawn)"). Leaves out fused bias/activation.
import * as tf from '@tensorflow/tfjs-core';
import './_internal/gradients.js';
import { AttentionMaskError } from './errors.js';

/** `'explicit'`: plain products + explicit transposes; `'flags'`: tf.matMul's transpose flags. */
export type MatMulFormulation = 'explicit' | 'flags';

/**
 * What webgpu uses on a hardware adapter (measured: README "GPU (WebGPU via Dawn)"). Software
 * adapters (lavapipe) and every other backend use 'explicit' (measured faster or equal there).
 */
const WEBGPU_HARDWARE: MatMulFormulation = 'explicit';
let forced: MatMulFormulation | null = null;
let webgpuIsHardware = false;

/** Records whether the webgpu backend runs on a hardware adapter (called by initBackend). */
export function noteWebgpuAdapter(hardware: boolean): void {
  webgpuIsHardware = hardware;
}

/** The formulation {@link matMul} uses on the current backend (benchmarks may force one). */
export function matMulFormulation(): MatMulFormulation {
  if (forced !== null) return forced;
  return tf.getBackend() === 'webgpu' && webgpuIsHardware ? WEBGPU_HARDWARE : 'explicit';
}

/** Forces a formulation (null = per backend). For benchmarks and tests only. */
export function forceMatMulFormulation(f: MatMulFormulation | null): void {
  forced = f;
}

/**
 * Plain batched product a3 [N,M,K] · b3 [N,K,P]. On wasm a batch > 1 takes a naive loop
 * (measured ~7x slower than N separate 2-D products on XNNPACK), so it is split there.
 */
function plainBatchMatMul(a3: tf.Tensor, b3: tf.Tensor): tf.Tensor {
  const n = a3.shape[0]!;
  if (n === 1 || tf.getBackend() !== 'wasm') return tf.matMul(a3, b3);
  const [, m, k] = a3.shape as [number, number, number];
  const p = b3.shape[2]!;
  return tf.tidy(() => {
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < n; i++) {
      // tf.slice, not unstack: wasm's Unpack bypasses the fast Slice kernel (backend.ts).
      const ai = tf.reshape(tf.slice(a3, [i, 0, 0], [1, m, k]), [m, k]);
      const bi = tf.reshape(tf.slice(b3, [i, 0, 0], [1, k, p]), [k, p]);
      outs.push(tf.matMul(ai, bi)); // [M,P]
    }
    return tf.stack(outs); // [N,M,P]
  });
}

/**
 * Gradient of y = a·b for a [..,M,K], b [..,K,P] given dy [..,M,P] w.r.t. `which` operand, with
 * explicit transposes only, computed the cheaper way round (fewer elements to transpose):
 * dA = dy·bᵀ or (b·dyᵀ)ᵀ, and dB = aᵀ·dy or (dyᵀ·a)ᵀ.
 */
function matMulGrads(
  a: tf.Tensor,
  b: tf.Tensor,
  dy: tf.Tensor,
  mm: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor,
  which: 'a' | 'b',
): tf.Tensor {
  const r = a.rank;
  const [m, k] = [a.shape[r - 2]!, a.shape[r - 1]!];
  const p = b.shape[r - 1]!;
  const dyT = () => swapLast(dy); // [..,P,M]
  if (which === 'a') return k * p <= m * p + k * m ? mm(dy, swapLast(b)) : swapLast(mm(b, dyT()));
  return m * k <= m * p + p * k ? mm(swapLast(a), dy) : swapLast(mm(dyT(), a));
}

/** tfjs' engine entry for an op with its own gradient (what tf.customGrad calls; not typed public). */
interface EngineWithKernelFunc {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor;
}

/**
 * y = a·b with the gradient of {@link matMulGrads}, each operand's gradient computed lazily: the
 * tape only asks for the operands on the path from the differentiated inputs, so a frozen weight
 * (the model in the mask fit, where only θ needs a gradient) costs no weight-gradient product.
 * (tf.customGrad computes every input's gradient eagerly.)
 */
function lazyGradMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  mm: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const engine = tf.engine() as unknown as EngineWithKernelFunc;
  return engine.runKernelFunc({
    forwardFunc: (_backend, save) => {
      save([a, b]);
      return mm(a, b);
    },
    backwardsFunc: (dy, saved) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return {
        a: () => matMulGrads(sa, sb, dy, mm, 'a'),
        b: () => matMulGrads(sa, sb, dy, mm, 'b'),
      };
    },
    inputs: { a, b },
  });
}

/** a3 [N,M,K] x b3 [N,K,P] -> [N,M,P] whose gradient uses plain products only. */
const batchMatMul3 = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  lazyGradMatMul(a, b, plainBatchMatMul);

/** 2-D version of {@link batchMatMul3}: a [M,K] x b [K,N] -> [M,N]. */
const matMul2 = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  lazyGradMatMul(a, b, (x, y) => tf.matMul(x, y));

/** Swaps the last two axes of a tensor of rank >= 2 (explicit transpose, never a flag). */
function swapLast(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/**
 * Matrix product `op(a) · op(b)` with the semantics of `tf.matMul` (batch dimensions broadcast),
 * whose gradient uses only explicit transposes and plain matMuls (fast on wasm).
 *
 * Shapes: a `[..., M, K]` (or `[..., K, M]` with `transposeA`), b `[..., K, N]` (or `[..., N, K]`
 * with `transposeB`); result `[..., M, N]` where `...` is the broadcast of both batch shapes.
 * A rank-2 `b` with a higher-rank `a` (a linear layer, `x [B,T,D] · W [D,N]`) is computed as one
 * 2-D product `[B*T, D] · [D, N]`.
 *
 * @param a left operand, rank >= 2
 * @param b right operand, rank >= 2
 * @param transposeA use aᵀ (last two axes swapped)
 * @param transposeB use bᵀ (last two axes swapped)
 * @throws AttentionMaskError `SHAPE_MISMATCH` when ranks < 2, inner sizes differ or batch shapes
 *   do not broadcast
 */
export function matMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA = false,
  transposeB = false,
): tf.Tensor {
  if (a.rank < 2 || b.rank < 2) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `matMul needs operands of rank >= 2, got a [${a.shape}] and b [${b.shape}]`,
    );
  }
  const kA = a.shape[transposeA ? a.rank - 2 : a.rank - 1]!;
  const kB = b.shape[transposeB ? b.rank - 1 : b.rank - 2]!;
  if (kA !== kB) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `matMul inner sizes differ: a [${a.shape}]${transposeA ? 'ᵀ' : ''} has K = ${kA}, ` +
        `b [${b.shape}]${transposeB ? 'ᵀ' : ''} has K = ${kB}`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  } catch (cause) {
    throw new AttentionMaskError(
      'SHAPE_MISMATCH',
      `matMul batch shapes do not broadcast: a [${a.shape}], b [${b.shape}]`,
      { cause },
    );
  }
  if (matMulFormulation() === 'flags') return flagsMatMul(a, b, transposeA, transposeB, batch);
  return tf.tidy(() => {
    const aa = transposeA ? swapLast(a) : a; // [..., M, K]
    const bb = transposeB ? swapLast(b) : b; // [..., K, N]
    const m = aa.shape[aa.rank - 2]!;
    const k = kA;
    const n = bb.shape[bb.rank - 1]!;
    if (bb.rank === 2) {
      // A 2-D a as it is: a reshape to the same shape is still a kernel call (and a tape clone).
      if (aa.rank === 2) return matMul2(aa, bb);
      // Linear layer: fold every batch axis of a into the rows.
      const out = matMul2(tf.reshape(aa, [-1, k]), bb); // [prod(batchA)*M, N]
      return tf.reshape(out, [...batchA, m, n]);
    }
    const size = batch.reduce((p, q) => p * q, 1);
    const a3 = tf.reshape(sameShape(batchA, batch) ? aa : tf.broadcastTo(aa, [...batch, m, k]), [
      size,
      m,
      k,
    ]); // [prod(batch), M, K]
    const b3 = tf.reshape(sameShape(batchB, batch) ? bb : tf.broadcastTo(bb, [...batch, k, n]), [
      size,
      k,
      n,
    ]); // [prod(batch), K, N]
    return tf.reshape(batchMatMul3(a3, b3), [...batch, m, n]);
  });
}

/** One tf.matMul with transpose flags (tfjs' gradient, also with flags); 2-D for a linear layer. */
function flagsMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
  batch: number[],
): tf.Tensor {
  return tf.tidy(() => {
    if (b.rank === 2 && !transposeA) {
      const k = a.shape[a.rank - 1]!;
      const n = b.shape[transposeB ? 0 : 1]!;
      const out = tf.matMul(tf.reshape(a, [-1, k]), b, false, transposeB); // [prod(..)*M, N]
      return tf.reshape(out, [...a.shape.slice(0, -1), n]);
    }
    const r = (x: tf.Tensor) =>
      sameShape(x.shape.slice(0, -2), batch)
        ? x
        : tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
    return tf.matMul(r(a), r(b), transposeA, transposeB);
  });
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
