import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, read, useCpuBackend } from '../test/helpers.js';
import type { LossType } from './config.js';
import { k3Kl } from './kl.js';
import { type PolicyLossOptions, policyLoss, policyLossStats } from './loss.js';

useCpuBackend();

// A fixed batch: B = 2, T = 3; row 1 has 2 real tokens. Expected numbers hand-derived
// (float64): ratios ρ = exp(L - O) = [[1, e^0.2, e^-0.5], [e^0.2, 1, 1]], ε = 0.2.
const L = [
  [-1.0, -0.5, -2.0],
  [-0.3, -1.2, 0],
];
const O = [
  [-1.0, -0.7, -1.5],
  [-0.5, -1.2, 0],
];
const M = [
  [1, 1, 1],
  [1, 1, 0],
];
const A = [1.0, -0.5];
const R = [
  [-1.0, -0.6, -2.5],
  [-0.3, -1.0, 0],
];

/** Loss value and d loss / d logProbs for the fixed batch. */
async function lossAndGrad(options: PolicyLossOptions): Promise<{ loss: number; grad: number[] }> {
  const old = tf.tensor2d(O);
  const mask = tf.tensor2d(M);
  const adv = tf.tensor1d(A);
  const ref = tf.tensor2d(R);
  const lp = tf.tensor2d(L);
  const f = (x: tf.Tensor): tf.Scalar =>
    policyLoss(
      { logProbs: x as tf.Tensor2D, oldLogProbs: old, advantages: adv, mask, refLogProbs: ref },
      options,
    );
  const { value, grad } = tf.valueAndGrad(f)(lp);
  const out = { loss: (await read(value))[0]!, grad: await read(grad) };
  tf.dispose([old, mask, adv, ref, lp, value, grad]);
  return out;
}

const expected: Record<LossType, { loss: number; grad: number[] }> = {
  // mean over sequences of per-sequence token means
  grpo: {
    loss: -0.19007976518208436,
    grad: [-1 / 6, 0, -0.10108844328543891, 0.15267534477002123, 0.125, 0],
  },
  // / 5 active tokens
  bnpo: {
    loss: -0.33916585612650973,
    grad: [-0.2, 0, -0.12130613194252668, 0.12214027581601698, 0.1, 0],
  },
  // / (2 sequences × maxCompletionLength 4)
  dr_grpo: {
    loss: -0.21197866007906857,
    grad: [-0.125, 0, -0.07581633246407918, 0.07633767238501062, 0.0625, 0],
  },
  // / numItemsInBatch 10
  dapo: {
    loss: -0.16958292806325487,
    grad: [-0.1, 0, -0.06065306597126334, 0.06107013790800849, 0.05, 0],
  },
};

describe('policyLoss', () => {
  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
    it(`${lossType}: hand-computed value and gradient`, async () => {
      const before = tf.memory().numTensors;
      const got = await lossAndGrad({
        lossType,
        epsilon: 0.2,
        maxCompletionLength: 4,
        numItemsInBatch: 10,
      });
      expect(got.loss).toBeCloseTo(expected[lossType].loss, 6);
      expectClose(got.grad, expected[lossType].grad, 1e-6);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('epsilonHigh widens the upper bound only: ρ = e^0.2 < 1.3 now carries gradient', async () => {
    const got = await lossAndGrad({
      lossType: 'dapo',
      epsilon: 0.2,
      epsilonHigh: 0.3,
      numItemsInBatch: 10,
    });
    expect(got.loss).toBeCloseTo(-0.1717232038792718, 6);
    expectClose(
      got.grad,
      [-0.1, -0.12214027581601698, -0.06065306597126334, 0.06107013790800849, 0.05, 0],
      1e-6,
    );
  });

  it('β > 0 adds the k3 KL term to value and gradient', async () => {
    const got = await lossAndGrad({ lossType: 'bnpo', epsilon: 0.2, beta: 0.1 });
    expect(got.loss).toBeCloseTo(-0.3365104394083344, 6);
    expectClose(
      got.grad,
      [
        -0.2, 0.0019032516392808077, -0.11343674513677934, 0.12214027581601698, 0.09557194483679661,
        0,
      ],
      1e-6,
    );
  });

  it('gradient accumulation: 4 micro-batches of 2 == one batch of 8 for dapo, dr_grpo and grpo, not bnpo', async () => {
    // a batch of 8 sequences with different lengths, deterministic pseudo-random values
    const b = 8;
    const t = 5;
    const lens = [5, 1, 3, 4, 2, 5, 3, 1];
    const val = (i: number): number => Math.sin(i * 12.9898) * 0.5;
    const theta = tf.tensor2d(
      Array.from({ length: b * t }, (_, i) => -1 + val(i)),
      [b, t],
    );
    const old = tf.tensor2d(
      Array.from({ length: b * t }, (_, i) => -1 + val(i + 100) * 0.3),
      [b, t],
    );
    const adv = tf.tensor1d(Array.from({ length: b }, (_, i) => val(i + 200) * 3));
    const mask = tf.tensor2d(
      lens.flatMap((n) => Array.from({ length: t }, (_, j) => (j < n ? 1 : 0))),
      [b, t],
    );
    const total = lens.reduce((x, y) => x + y, 0);
    const gradOf = (lossType: LossType, ga: number): tf.Tensor =>
      tf.grad((x: tf.Tensor) => {
        const size = b / ga;
        const parts: tf.Scalar[] = [];
        for (let k = 0; k < ga; k++) {
          const sl = <T extends tf.Tensor>(z: T): T => tf.slice(z, [k * size, 0], [size, t]) as T;
          parts.push(
            policyLoss(
              {
                logProbs: sl(x as tf.Tensor2D),
                oldLogProbs: sl(old),
                advantages: tf.slice(adv, [k * size], [size]),
                mask: sl(mask),
              },
              {
                lossType,
                epsilon: 0.2,
                maxCompletionLength: 6,
                numItemsInBatch: total,
                gradientAccumulationSteps: ga,
              },
            ),
          );
        }
        return tf.addN(parts) as tf.Scalar; // summed gradients == accumulated gradients
      })(theta);
    for (const lossType of ['dapo', 'dr_grpo', 'grpo'] as const) {
      const full = gradOf(lossType, 1);
      const acc = gradOf(lossType, 4);
      expectClose(await read(acc), await read(full), 1e-6);
      tf.dispose([full, acc]);
    }
    const full = await read(gradOf('bnpo', 1));
    const acc = await read(gradOf('bnpo', 4));
    expect(Math.max(...full.map((x, i) => Math.abs(x - acc[i]!)))).toBeGreaterThan(1e-3);
    tf.dispose([theta, old, adv, mask]);
  });

  it('on-policy (μ = 1, β = 0): loss ≈ 0 while the gradient is not 0', async () => {
    // ratio 1 everywhere; advantages of a group centred at 0; grpo averages per sequence
    const lp = tf.tensor2d([
      [-0.7, -1.1, -2.0],
      [-0.2, -0.9, -1.4],
      [-1.3, -0.4, -0.8],
      [-0.6, -0.6, -0.6],
    ]);
    const mask = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
      [1, 1, 1],
    ]);
    const adv = tf.tensor1d([1.5, -0.5, -1.5, 0.5]);
    const old = tf.clone(lp);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) =>
      policyLoss(
        { logProbs: x as tf.Tensor2D, oldLogProbs: old, advantages: adv, mask },
        { lossType: 'grpo', epsilon: 0.2 },
      ),
    )(lp);
    expect(Math.abs((await read(value))[0]!)).toBeLessThan(1e-7);
    const g = await read(grad);
    // d/dlogp = -A/len/B on active tokens
    expectClose(
      g,
      [
        -1.5 / 12,
        -1.5 / 12,
        -1.5 / 12,
        0.5 / 8,
        0.5 / 8,
        0,
        1.5 / 4,
        0,
        0,
        -0.5 / 12,
        -0.5 / 12,
        -0.5 / 12,
      ],
      1e-6,
    );
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(0.1);
    tf.dispose([lp, mask, adv, old, value, grad]);
  });

  it('clipping: no gradient in the clipped direction, full gradient in the other', async () => {
    // ρ = [1.5, 0.5, 1.5, 0.5] with A = [+1, -1, -1, +1]
    const old = tf.tensor2d([[0, 0, 0, 0]]);
    const lp = tf.tensor2d([[Math.log(1.5), Math.log(0.5), Math.log(1.5), Math.log(0.5)]]);
    const adv = tf.tensor2d([[1, -1, -1, 1]]); // per-token advantages
    const mask = tf.tensor2d([[1, 1, 1, 1]]);
    const grad = tf.grad((x: tf.Tensor) =>
      policyLoss(
        { logProbs: x as tf.Tensor2D, oldLogProbs: old, advantages: adv, mask },
        { lossType: 'bnpo', epsilon: 0.2 },
      ),
    )(lp);
    // clipped: A>0 & ρ>1.2, A<0 & ρ<0.8 -> 0; unclipped: -A·ρ/4
    expectClose(await read(grad), [0, 0, 1.5 / 4, -0.5 / 4], 1e-6);
    const stats = policyLossStats(
      { logProbs: lp, oldLogProbs: old, advantages: adv, mask },
      { lossType: 'bnpo', epsilon: 0.2 },
    );
    expectClose(await read(stats), [0.25, 0.25, 0.5, 0, 4], 1e-6);
    tf.dispose([old, lp, adv, mask, grad, stats]);
  });

  it('rejects mismatched shapes with a message naming the argument', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const bad = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() =>
      policyLoss(
        { logProbs: a, oldLogProbs: a, advantages: tf.zeros([2]) as tf.Tensor1D, mask: bad },
        { lossType: 'dapo', epsilon: 0.2 },
      ),
    ).toThrow(/mask has shape \[2,4\], expected \[B,T\] = \[2,3\]/);
    expect(() =>
      policyLoss(
        { logProbs: a, oldLogProbs: a, advantages: tf.zeros([2]) as tf.Tensor1D, mask: a },
        { lossType: 'dapo', epsilon: 0.2, beta: 0.1 },
      ),
    ).toThrow(/refLogProbs/);
    tf.disposeVariables();
  });
});

describe('k3Kl', () => {
  it('is ≥ 0 everywhere, 0 for identical policies, and matches hand values', async () => {
    const lp = tf.tensor2d(L);
    const ref = tf.tensor2d(R);
    const k = await read(k3Kl(lp, ref));
    // exp(d) - d - 1 with d = R - L
    expectClose(
      k,
      [0, Math.exp(-0.1) + 0.1 - 1, Math.exp(-0.5) + 0.5 - 1, 0, Math.exp(0.2) - 0.2 - 1, 0],
      1e-6,
    );
    const rand = tf.randomNormal([16, 16], 0, 2, 'float32', 7) as tf.Tensor2D;
    const rand2 = tf.randomNormal([16, 16], 0, 2, 'float32', 8) as tf.Tensor2D;
    expect(Math.min(...(await read(k3Kl(rand, rand2))))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...(await read(k3Kl(rand, rand)).then((x) => x.map(Math.abs))))).toBe(0);
    tf.dispose([lp, ref, rand, rand2]);
  });
});
