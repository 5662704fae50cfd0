// Activation recomputation (LlamaModel.recompute) on cpu: the mask-fit gradient (bias through a
// cached prefix, answer rows only, frozen weights) and the policy-update gradient (all trainable
// weights, left padding) equal those without it, the peak tensor memory of the backward pass is
// lower, nothing leaks, and extending a KV cache ignores the option.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandomModel } from '../checkpoint.js';
import type { LlamaModel } from '../llama-model.js';

const CONFIG = {
  vocab_size: 64,
  hidden_size: 48,
  intermediate_size: 96,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rope_theta: 10000,
  tie_word_embeddings: false,
  initializer_range: 0.2,
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}
const ids = (n: number, salt: number) => Array.from({ length: n }, (_, i) => (i * 17 + salt) % 64);

/** d loss / d θ of a mask-fit step: bias 10·min(θ,0) on CoT keys, prefix in the cache. */
async function maskFitGrad(model: LlamaModel, recompute: boolean): Promise<Float32Array> {
  model.recompute = recompute;
  const [P, C, A] = [5, 9, 3];
  const seq = ids(P + C + A, 3);
  const cache = model.createCache(1);
  tf.tidy(() => {
    model.forward(tf.tensor2d([seq.slice(0, P)], undefined, 'int32'), { cache });
  });
  const suffix = tf.tensor2d([seq.slice(P)], undefined, 'int32');
  const targets = tf.tidy(() => tf.oneHot(tf.tensor1d(seq.slice(P + C), 'int32'), 64));
  const theta = tf.tensor2d([Array.from({ length: C }, (_, i) => (i % 3) / 4 - 0.4)]);
  const loss = (th: tf.Tensor) => {
    const bias = tf.concat([tf.zeros([1, P]), tf.mul(10, tf.minimum(th, 0)), tf.zeros([1, A])], 1);
    const logits = model.forward(suffix, {
      cache,
      updateCache: false,
      attentionBias: bias as tf.Tensor2D,
      queries: { start: P + C - 1, end: P + C + A },
    });
    const rows = tf.reshape(tf.slice(logits, [0, C - 1, 0], [1, A, -1]), [A, -1]);
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(rows), targets))) as tf.Scalar;
  };
  const g = tf.grad(loss)(theta);
  const out = (await g.data()) as Float32Array;
  tf.dispose([g, suffix, targets, theta]);
  cache.dispose();
  model.recompute = false;
  return out;
}

/** Gradients of a sequenceLogProbs loss w.r.t. every trainable variable (padded batch of 2). */
async function policyGrads(model: LlamaModel, recompute: boolean): Promise<Float32Array[]> {
  model.recompute = recompute;
  const loss = () => {
    const { logProbs, mask } = model.sequenceLogProbs(
      [ids(4, 1), ids(7, 2)],
      [ids(6, 5), ids(3, 9)],
    );
    return tf.div(tf.neg(tf.sum(logProbs)), tf.sum(mask)) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss, model.trainableVariables);
  const names = model.trainableVariables.map((v) => v.name);
  const out = (await Promise.all(names.map((n) => grads[n]!.data()))) as Float32Array[];
  tf.dispose([value, ...Object.values(grads)]);
  model.recompute = false;
  return out;
}

describe('activation recomputation on cpu', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('mask-fit bias gradient is the same with and without, and nothing leaks', async () => {
    const model = createRandomModel(CONFIG, 4, { trainable: false });
    const before = tf.memory().numTensors;
    const plain = await maskFitGrad(model, false);
    const again = await maskFitGrad(model, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(again, plain)).toBeLessThanOrEqual(1e-6);
    expect(Math.max(...Array.from(plain, Math.abs))).toBeGreaterThan(1e-3); // can fail
    model.dispose();
  });

  it('policy-update gradients of every weight are the same with and without', async () => {
    const model = createRandomModel(CONFIG, 5);
    const before = tf.memory().numTensors;
    const plain = await policyGrads(model, false);
    const again = await policyGrads(model, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(again.length).toBe(model.trainableVariables.length);
    for (let i = 0; i < plain.length; i++) {
      expect(maxAbsDiff(again[i]!, plain[i]!)).toBeLessThanOrEqual(1e-6);
    }
    expect(Math.max(...Array.from(plain[0]!, Math.abs))).toBeGreaterThan(0); // can fail
    model.dispose();
  });

  it('lowers the peak tensor memory of a forward+backward pass', async () => {
    const config = { ...CONFIG, num_hidden_layers: 4, intermediate_size: 192 };
    const model = createRandomModel(config, 6);
    const peak = async (recompute: boolean) => {
      model.recompute = recompute;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { logProbs } = model.sequenceLogProbs(
            [ids(8, 1), ids(8, 2)],
            [ids(56, 3), ids(56, 4)],
          );
          return tf.neg(tf.mean(logProbs)) as tf.Scalar;
        }, model.trainableVariables);
        tf.dispose([value, ...Object.values(grads)]);
      });
      model.recompute = false;
      return info.peakBytes;
    };
    const plain = await peak(false);
    const again = await peak(true);
    expect(again).toBeLessThan(plain * 0.8);
    model.dispose();
  });

  it('is ignored while extending a KV cache (the cache gets the same entries)', async () => {
    const model = createRandomModel(CONFIG, 7);
    const fill = async (recompute: boolean) => {
      model.recompute = recompute;
      const cache = model.createCache(1);
      tf.tidy(() => {
        model.forward(tf.tensor2d([ids(6, 1)], undefined, 'int32'), { cache });
      });
      const k = (await cache.keys[2]!.data()) as Float32Array;
      cache.dispose();
      model.recompute = false;
      return k;
    };
    expect(maxAbsDiff(await fill(true), await fill(false))).toBe(0);
    model.dispose();
  });
});
