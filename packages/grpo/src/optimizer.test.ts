import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, read, useCpuBackend } from '../test/helpers.js';
import { AdamW, clipByGlobalNorm, GradientAccumulator } from './optimizer.js';

useCpuBackend();

describe('AdamW', () => {
  it('matches the hand-computed torch.optim.AdamW update over two steps (decoupled decay)', async () => {
    const p = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW([p], { weightDecay: 0.1, decay: () => true });
    const before = tf.memory().numTensors;
    const g1 = tf.tensor1d([0.5]);
    opt.applyGradients([g1], 0.1);
    // p = 1 - 0.1·0.1·1 = 0.99; m̂ = 0.5, v̂ = 0.25 -> step 0.1
    expectClose(await read(p), [0.890000002], 1e-7);
    const g2 = tf.tensor1d([-0.25]);
    opt.applyGradients([g2], 0.1);
    expectClose(await read(p), [0.8544662986878463], 1e-6);
    tf.dispose([g1, g2]);
    expect(tf.memory().numTensors).toBe(before);
    expect(opt.step).toBe(2);
    opt.dispose();
    p.dispose();
  });

  it('takes torch names (betas, eps); the deprecated beta1/beta2/epsilon give the same update', async () => {
    const run = async (options: ConstructorParameters<typeof AdamW>[1]) => {
      const p = tf.variable(tf.tensor1d([2]));
      const opt = new AdamW([p], { ...options, weightDecay: 0.2, decay: () => true });
      const out: number[] = [];
      for (const g of [0.4, -0.2]) {
        const gt = tf.tensor1d([g]);
        opt.applyGradients([gt], 0.1);
        gt.dispose();
        out.push((await read(p))[0]!);
      }
      opt.dispose();
      p.dispose();
      return out;
    };
    const torch = await run({ betas: [0.5, 0.75], eps: 0.01 });
    // hand-computed (same as @atmanrl/model's adamWStep test): t=1 θ = 1.96 − 0.04/0.41, t=2 the
    // decay only (m = 0.5·0.2 − 0.5·0.2 = 0)
    expectClose(torch, [1.96 - 0.04 / 0.41, (1.96 - 0.04 / 0.41) * 0.98], 1e-6);
    expect(await run({ beta1: 0.5, beta2: 0.75, epsilon: 0.01 })).toEqual(torch);
    // the new names win over the deprecated ones
    expect(await run({ betas: [0.5, 0.75], eps: 0.01, beta1: 0.9, epsilon: 1 })).toEqual(torch);
  });

  it('default decay rule skips rank-1 variables (norm gains)', async () => {
    const w = tf.variable(tf.ones([2, 2]));
    const gain = tf.variable(tf.ones([2]));
    const opt = new AdamW([w, gain], { weightDecay: 0.5 });
    const zeroW = tf.zeros([2, 2]);
    const zeroG = tf.zeros([2]);
    opt.applyGradients([zeroW, zeroG], 0.1);
    expectClose(await read(w), [0.95, 0.95, 0.95, 0.95], 1e-6);
    expectClose(await read(gain), [1, 1], 1e-6);
    tf.dispose([zeroW, zeroG, w, gain]);
    opt.dispose();
  });

  it('state round-trips through plain Float32Arrays: a resumed optimiser continues identically', async () => {
    const init = [0.3, -0.2, 0.7, 0.1];
    const a = tf.variable(tf.tensor2d(init, [2, 2]));
    const b = tf.variable(tf.tensor2d(init, [2, 2]));
    const optA = new AdamW([a], { weightDecay: 0.01 });
    const grads = [
      tf.tensor2d([0.1, -0.3, 0.2, 0.05], [2, 2]),
      tf.tensor2d([-0.2, 0.1, 0.4, -0.1], [2, 2]),
    ];
    optA.applyGradients([grads[0]!], 0.01);
    const state = await optA.getState();
    expect(Object.keys(state).sort()).toEqual(['exp_avg.0', 'exp_avg_sq.0', 'step']);
    b.assign(a);
    const optB = new AdamW([b], { weightDecay: 0.01 });
    optB.loadState(state);
    optA.applyGradients([grads[1]!], 0.01);
    optB.applyGradients([grads[1]!], 0.01);
    expect(await read(b)).toEqual(await read(a));
    expect(() => optB.loadState({ step: Float32Array.of(1) })).toThrow(/exp_avg.0/);
    tf.dispose([a, b, ...grads]);
    optA.dispose();
    optB.dispose();
  });
});

describe('clipByGlobalNorm', () => {
  it('returns the pre-clip global norm and scales by maxNorm/(norm + 1e-6)', async () => {
    const g = [tf.tensor1d([3, 4]), tf.tensor1d([12])]; // norm 13
    const { grads, norm } = clipByGlobalNorm(g, 6.5);
    expect((await read(norm))[0]).toBeCloseTo(13, 5);
    const c = 6.5 / (13 + 1e-6);
    expectClose(
      [...(await read(grads[0]!)), ...(await read(grads[1]!))],
      [3 * c, 4 * c, 12 * c],
      1e-6,
    );
    const { grads: same } = clipByGlobalNorm(g, 100);
    expectClose(await read(same[1]!), [12], 1e-7);
    tf.dispose([...g, ...grads, ...same, norm]);
  });
});

describe('GradientAccumulator', () => {
  it('sums micro-batch gradients and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const acc = new GradientAccumulator();
    const parts = [tf.tensor1d([1, 2]), tf.tensor1d([10, 20]), tf.tensor1d([100, 200])];
    for (const p of parts) acc.add([p]);
    const [sum] = acc.take();
    expect(await read(sum!)).toEqual([111, 222]);
    tf.dispose([...parts, sum!]);
    acc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
