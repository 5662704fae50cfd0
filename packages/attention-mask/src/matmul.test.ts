// matMul against tf.matMul (values and gradients) on cpu and wasm in the formulation each uses, and
// on cpu in the other one (transpose flags, webgpu's alternative), plus a hand-computed case.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, randn } from '../test/helpers.js';
import { AttentionMaskError } from './errors.js';
import {
  forceMatMulFormulation,
  type MatMulFormulation,
  matMul,
  matMulFormulation,
} from './matmul.js';
import { initBackend } from './node/backend.js';

const shapes: { name: string; a: number[]; b: number[] }[] = [
  { name: '2-D', a: [3, 4], b: [4, 5] },
  { name: 'batched', a: [2, 3, 4], b: [2, 4, 5] },
  { name: 'rank 4', a: [2, 2, 3, 4], b: [2, 2, 4, 5] },
  { name: 'linear layer x[B,T,D]·W[D,N]', a: [2, 3, 4], b: [4, 5] },
  { name: 'broadcast batch', a: [3, 3, 4], b: [2, 1, 4, 5] },
];

function transposedShape(s: number[], t: boolean): number[] {
  if (!t) return s;
  const r = [...s];
  [r[r.length - 2], r[r.length - 1]] = [r[r.length - 1]!, r[r.length - 2]!];
  return r;
}

const runs: { backend: 'cpu' | 'wasm'; formulation: MatMulFormulation; forced: boolean }[] = [
  { backend: 'cpu', formulation: 'explicit', forced: false },
  { backend: 'wasm', formulation: 'explicit', forced: false },
  { backend: 'cpu', formulation: 'flags', forced: true },
];

describe.each(runs)('matMul on $backend ($formulation)', ({ backend, formulation, forced }) => {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await initBackend({ prefer: backend });
    expect(tf.getBackend()).toBe(backend);
    if (forced) forceMatMulFormulation(formulation);
    expect(matMulFormulation()).toBe(formulation);
  });
  afterAll(async () => {
    forceMatMulFormulation(null);
    if (previous) await tf.setBackend(previous);
  });

  it('is bitwise identical to tf.matMul without transposes', async () => {
    for (const { a, b } of shapes.slice(0, 3)) {
      const [x, y] = [tf.tensor(randn<number[]>(a, 1)), tf.tensor(randn<number[]>(b, 2))];
      const [got, want] = [matMul(x, y), tf.matMul(x, y)];
      expect(got.shape).toEqual(want.shape);
      expect(maxAbsDiff(await got.data(), await want.data())).toBe(0);
      tf.dispose([x, y, got, want]);
    }
  });

  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      it.each(shapes)(
        `values and gradients match tf.matMul (tA=${tA}, tB=${tB}): $name`,
        async (s) => {
          const aShape = transposedShape(s.a, tA);
          const bShape = transposedShape(s.b, tB);
          const a = tf.tensor(randn<number[]>(aShape, 3), aShape);
          const b = tf.tensor(randn<number[]>(bShape, 4), bShape);
          // tf.matMul mishandles batch broadcasting across ranks and its gradient does not reduce
          // broadcast axes: the reference broadcasts explicitly.
          const batch = tf.broadcast_util.assertAndGetBroadcastShape(
            aShape.slice(0, -2),
            bShape.slice(0, -2),
          );
          const full = (x: tf.Tensor) => tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
          const want = tf.matMul(full(a), full(b), tA, tB);
          const w = tf.randomNormal(want.shape, 0, 1, 'float32', 5);
          const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
            tf.sum(tf.mul(matMul(x, y, tA, tB), w)),
          );
          const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
            tf.sum(tf.mul(tf.matMul(full(x), full(y), tA, tB), w)),
          );
          const got = matMul(a, b, tA, tB);
          const [ga, gb] = ours([a, b]);
          const [ra, rb] = ref([a, b]);
          expect(got.shape).toEqual(want.shape);
          expect(ga!.shape).toEqual(aShape);
          expect(gb!.shape).toEqual(bShape);
          expect(maxAbsDiff(await got.data(), await want.data())).toBeLessThan(1e-5);
          expect(maxAbsDiff(await ga!.data(), await ra!.data())).toBeLessThan(1e-5);
          expect(maxAbsDiff(await gb!.data(), await rb!.data())).toBeLessThan(1e-5);
          tf.dispose([a, b, want, w, got, ga!, gb!, ra!, rb!]);
        },
      );
    }
  }

  it('has the hand-computed gradient of sum(A·B)', async () => {
    // d/dA sum(AB) = 1·Bᵀ (row sums of B), d/dB = Aᵀ·1 (column sums of A)
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor2d([
      [5, 6],
      [7, 8],
    ]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y)))([a, b]);
    expect(await ga!.array()).toEqual([
      [11, 15],
      [11, 15],
    ]);
    expect(await gb!.array()).toEqual([
      [4, 4],
      [6, 6],
    ]);
    tf.dispose([a, b, ga!, gb!]);
  });

  it('does not leak tensors in forward or backward', () => {
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    matMul(a, b, false, true).dispose();
    tf.dispose(
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, true, false)))([
        tf.transpose(a, [0, 2, 1]),
        tf.transpose(b, [0, 2, 1]),
      ]),
    );
    // the two transposed inputs above are the only new tensors
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([a, b]);
  });
});

describe('matMul argument checks', () => {
  it('rejects mismatched inner sizes and ranks with AttentionMaskError', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([4, 5]);
    expect(() => matMul(a, b)).toThrow(AttentionMaskError);
    expect(() => matMul(a, b)).toThrow(
      'matMul inner sizes differ: a [2,3] has K = 3, b [4,5] has K = 4',
    );
    expect(() => matMul(tf.zeros([3]), b)).toThrow('rank >= 2');
    expect(() => matMul(tf.zeros([2, 3, 4]), tf.zeros([3, 4, 5]))).toThrow(
      'batch shapes do not broadcast',
    );
    tf.dispose([a, b]);
  });

  it('computes only the operand gradients the tape asks for (a frozen weight costs no product)', async () => {
    const a = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([5, 7], 0, 1, 'float32', 2);
    const products = async (f: () => void) =>
      (await tf.profile(f)).kernels.filter((k) => k.name === 'BatchMatMul').length;
    // d/da only: the forward product and dA; d/da and d/dw: one more for dW.
    expect(
      await products(() =>
        tf
          .grad((x: tf.Tensor) => tf.sum(matMul(x, w)))(a)
          .dispose(),
      ),
    ).toBe(2);
    expect(
      await products(() =>
        tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y)))([a, w])),
      ),
    ).toBe(3);
    tf.dispose([a, w]);
  });

  it('runs a 2-D product as one kernel, forward and backward, with no reshape', async () => {
    const a = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([5, 7], 0, 1, 'float32', 2);
    // kernels only: matMul's own-gradient op also records as an 'unnamed scope'
    const kernels = async (f: () => void) =>
      (await tf.profile(f)).kernels.map((k) => k.name).filter((n) => n !== 'unnamed scope');
    expect(await kernels(() => matMul(a, w).dispose())).toEqual(['BatchMatMul']);
    // backward: no reshape to the same shape (tf.sum's own gradient reshapes [] -> [1,1])
    const backward = await tf.profile(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(matMul(x, w)))(a)
        .dispose(),
    );
    const noOps = backward.kernels.filter(
      (k) => k.name === 'Reshape' && `${k.inputShapes[0]}` === `${k.outputShapes[0]}`,
    );
    expect(noOps).toEqual([]);
    expect(backward.kernels.filter((k) => k.name === 'BatchMatMul')).toHaveLength(2);
    // a rank-3 input still folds into rows and back: [2,3,5]·[5,7] -> [2,3,7]
    const a3 = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 3);
    expect(matMul(a3, w).shape).toEqual([2, 3, 7]);
    tf.dispose([a, w, a3]);
  });
});
