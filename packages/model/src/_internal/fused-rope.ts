// Fused RoPE on webgpu for the projection's output: split into heads, move heads before time and
// rotate (`x·cos + rotate_half(x)·sin`, Hugging Face layout) in one dispatch; the backward (the
// inverse rotation, back to the projection layout) in one more. Replaces reshape + transpose +
// split + neg + concat + 2 mul + add (and their gradients) per q/k. Leaves out partial rotary dims.
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '../errors.js';
import {
  flatProgram,
  registerWebgpuKernel,
  type TensorInfoLike,
  type WebgpuBackendLike,
} from './fused-webgpu.js';

const K = { forward: 'AtmanrlRopeHeads', grad: 'AtmanrlRopeHeadsGrad' } as const;

/** y[b,h,t,c] from p[b*T+t, h*hd+c]; output `[B,n,T,hd]`, inputs p `[B*T,n*hd]`, cos/sin `[B,1,T,hd]`. */
function forwardProgram(outputShape: number[]) {
  return flatProgram(
    'atmanrlRopeHeads',
    ['pIn', 'cosIn', 'sinIn'],
    outputShape,
    `let hd = uniforms.outShape[3];
        let nt = uniforms.outShape[2];
        let n = uniforms.outShape[1];
        let c = index % hd;
        let t = (index / hd) % nt;
        let h = (index / (hd * nt)) % n;
        let b = index / (hd * nt * n);
        let half = hd / 2;
        let prow = (b * nt + t) * n * hd + h * hd;
        var r = 0.0;
        if (c < half) { r = -pIn[prow + c + half]; } else { r = pIn[prow + c - half]; }
        let tc = (b * nt + t) * hd + c;
        result[index] = pIn[prow + c] * cosIn[tc] + r * sinIn[tc];`,
  );
}

/** dp[b*T+t, h*hd+e] = dy_e·cos_e + (e < hd/2 ? dy_{e+hd/2}·sin_{e+hd/2} : −dy_{e−hd/2}·sin_{e−hd/2}). */
function gradProgram(outputShape: number[]) {
  return flatProgram(
    'atmanrlRopeHeadsGrad',
    ['dyIn', 'cosIn', 'sinIn'],
    outputShape,
    `let hd = uniforms.cosInShape[3];
        let nt = uniforms.cosInShape[2];
        let n = uniforms.outShape[1] / hd;
        let row = index / (n * hd);
        let col = index % (n * hd);
        let h = col / hd;
        let e = col % hd;
        let b = row / nt;
        let t = row % nt;
        let half = hd / 2;
        let ybase = ((b * n + h) * nt + t) * hd;
        let tb = (b * nt + t) * hd;
        var g = dyIn[ybase + e] * cosIn[tb + e];
        if (e < half) { g = g + dyIn[ybase + e + half] * sinIn[tb + e + half]; }
        else { g = g - dyIn[ybase + e - half] * sinIn[tb + e - half]; }
        result[index] = g;`,
  );
}

let registered = false;
function registerKernels(): void {
  if (registered) return;
  registered = true;
  const reg = registerWebgpuKernel;
  reg(K.forward, ({ inputs, backend, attrs }) => {
    const { p, cos, sin } = inputs as Record<string, TensorInfoLike>;
    const [b, , t, hd] = cos!.shape as [number, number, number, number];
    const n = attrs!['heads'] as number;
    return (backend as WebgpuBackendLike).runWebGPUProgram(
      forwardProgram([b, n, t, hd]),
      [p!, cos!, sin!],
      'float32',
    );
  });
  reg(K.grad, ({ inputs, backend }) => {
    const { dy, cos, sin } = inputs as Record<string, TensorInfoLike>;
    const [b, n, t, hd] = dy!.shape as [number, number, number, number];
    return (backend as WebgpuBackendLike).runWebGPUProgram(
      gradProgram([b * t, n * hd]),
      [dy!, cos!, sin!],
      'float32',
    );
  });
}

/**
 * The projection output `[B*T, n*hd]` as rotated heads `[B,n,T,hd]` in one webgpu dispatch
 * (`applyRope(transpose(reshape(p, [B,T,n,hd]), [0,2,1,3]), cos, sin)`), with its gradient for p
 * in one more; cos/sin `[B,1,T,hd]` are constants. Call only on webgpu.
 * @throws ModelError `SHAPE_MISMATCH` when p, cos and sin disagree
 */
export function fusedRopeHeads(
  p: tf.Tensor,
  cos: tf.Tensor4D,
  sin: tf.Tensor4D,
  heads: number,
): tf.Tensor4D {
  const [b, , t, hd] = cos.shape;
  if (
    p.rank !== 2 ||
    p.shape[0] !== b * t ||
    p.shape[1] !== heads * hd ||
    hd % 2 !== 0 ||
    !tf.util.arraysEqual(sin.shape, cos.shape)
  ) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `fusedRopeHeads: p [${p.shape}], cos [${cos.shape}], sin [${sin.shape}], ${heads} heads; ` +
        'expected p [B*T, heads*hd] and cos = sin [B,1,T,hd] with hd even',
    );
  }
  registerKernels();
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [pp, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([cos, sin]); // constants, kept for the backward pass
    const y = tf.engine().runKernel(K.forward, { p: pp, cos, sin }, { heads }) as tf.Tensor;
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.engine().runKernel(K.grad, { dy, cos: saved[0]!, sin: saved[1]! }) as tf.Tensor,
      ],
    };
  });
  return op(p) as tf.Tensor4D;
}
