// headLogProbs (issue 22): the chunked head + log-softmax with its own gradient equals the
// unchunked computation (tfjs autodiff of logSoftmax(h·W/τ)), values and gradients, for chunk
// sizes that split the rows unevenly, on cpu and wasm; and sequenceLogProbs through a model
// equals the unchunked log-softmax of forward's logits with the same gradients.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { setUpBackend, TINY_CONFIG } from '../test/helpers.js';
import { createRandomModel } from './checkpoint.js';
import { defaultChunkRows, headLogProbs } from './head-log-probs.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The unchunked reference: log-probs of targets and entropies from the full [N,V] logits. */
function reference(h: tf.Tensor2D, w: tf.Tensor2D, targets: number[], tau: number) {
  const logp = tf.logSoftmax(tf.div(tf.matMul(h, w), tau)); // [N,V]
  const onehot = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), w.shape[1]), 'float32');
  return {
    logProbs: tf.sum(tf.mul(logp, onehot), 1),
    entropy: tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)),
  };
}

describe('headLogProbs', () => {
  afterAll(() => setUpBackend());
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals the unchunked log-softmax in values and gradients (${backend})`, async () => {
      await initBackend({ prefer: backend });
      const n = 7;
      const d = 5;
      const v = 11;
      const targets = [0, 3, 10, 3, 7, 1, 5];
      const h = tf.randomNormal([n, d], 0, 1, 'float32', 1) as tf.Tensor2D;
      const w = tf.randomNormal([d, v], 0, 1, 'float32', 2) as tf.Tensor2D;
      const a = tf.randomNormal([n], 0, 1, 'float32', 3); // upstream weights of the log-probs
      const e = tf.randomNormal([n], 0, 1, 'float32', 4); // ... and of the entropies
      const loss = (f: typeof reference) => (hh: tf.Tensor, ww: tf.Tensor) => {
        const r = f(hh as tf.Tensor2D, ww as tf.Tensor2D, targets, 0.7);
        return tf.add(tf.sum(tf.mul(r.logProbs, a)), tf.sum(tf.mul(r.entropy, e))) as tf.Scalar;
      };
      const ref = tf.valueAndGrads(loss(reference))([h, w]);
      const refVals = reference(h, w, targets, 0.7);
      const refLp = await refVals.logProbs.data();
      const refEnt = await refVals.entropy.data();
      const refGh = await ref.grads[0]!.data();
      const refGw = await ref.grads[1]!.data();
      for (const chunkRows of [1, 3, 7, 100]) {
        const before = tf.memory().numTensors;
        const chunked = (hh: tf.Tensor2D, ww: tf.Tensor2D, t: number[], tau: number) =>
          headLogProbs(hh, ww, t, { temperature: tau, chunkRows });
        const vals = chunked(h, w, targets, 0.7);
        expect(maxAbsDiff(await vals.logProbs.data(), refLp)).toBeLessThan(1e-6);
        expect(maxAbsDiff(await vals.entropy.data(), refEnt)).toBeLessThan(1e-6);
        const got = tf.valueAndGrads(loss(chunked))([h, w]);
        expect(maxAbsDiff(await got.grads[0]!.data(), refGh)).toBeLessThan(1e-6);
        expect(maxAbsDiff(await got.grads[1]!.data(), refGw)).toBeLessThan(1e-6);
        tf.dispose([vals.logProbs, vals.entropy, got.value, ...got.grads]);
        expect(tf.memory().numTensors).toBe(before);
      }
      tf.dispose([h, w, a, e, ref.value, ...ref.grads, refVals.logProbs, refVals.entropy]);
    });
  }

  it('rejects bad targets and options with ModelError', () => {
    const h = tf.zeros([2, 3]) as tf.Tensor2D;
    const w = tf.zeros([3, 4]) as tf.Tensor2D;
    expect(() => headLogProbs(h, w, [0, 4])).toThrow(/target 4 in row 1 is outside \[0, 4\)/);
    expect(() => headLogProbs(h, w, [0])).toThrow(/1 targets for N = 2 rows/);
    expect(() => headLogProbs(h, w, [0, 1], { chunkRows: 0 })).toThrow(/chunkRows is 0/);
    expect(() => headLogProbs(h, w, [0, 1], { temperature: 0 })).toThrow(/temperature is 0/);
    tf.dispose([h, w]);
  });

  it('chunks 32 MiB of logits by default', () => {
    expect(defaultChunkRows(128256)).toBe(65);
    expect(defaultChunkRows(2 ** 40)).toBe(1);
  });
});

describe('sequenceLogProbs (chunked head)', () => {
  it('equals log-softmax of forward logits in values and gradients', async () => {
    await setUpBackend();
    const model = createRandomModel(TINY_CONFIG, 5);
    const v = TINY_CONFIG.vocab_size;
    const prompts = [
      [256, 40, 41],
      [256, 42],
    ];
    const comps = [[50, 51, 52, 53], [54]];
    // Reference: the same left-padded layout through forward, full [B,T,V] log-softmax.
    const refLoss = () =>
      tf.tidy(() => {
        const ids = tf.tensor2d(
          [
            [256, 40, 41, 50, 51, 52, 53],
            [261, 256, 42, 54, 261, 261, 261],
          ],
          undefined,
          'int32',
        );
        const attentionMask = tf.tensor2d([
          [1, 1, 1, 1, 1, 1, 1],
          [0, 1, 1, 1, 0, 0, 0],
        ]);
        const logp = tf.logSoftmax(tf.div(model.forward(ids, { attentionMask }), 0.8)); // [2,7,V]
        const flat = tf.reshape(logp, [-1]);
        const idx = [
          ...[50, 51, 52, 53].map((t, j) => (0 * 7 + 2 + j) * v + t),
          (1 * 7 + 2) * v + 54,
        ];
        return tf.sum(
          tf.mul(tf.gather(flat, tf.tensor1d(idx, 'int32')), [1, 2, 3, 4, 5]),
        ) as tf.Scalar;
      });
    const gotLoss = () =>
      tf.tidy(() => {
        const { logProbs } = model.sequenceLogProbs(prompts, comps, { temperature: 0.8 });
        return tf.sum(
          tf.mul(logProbs, [
            [1, 2, 3, 4],
            [5, 0, 0, 0],
          ]),
        ) as tf.Scalar;
      });
    const before = tf.memory().numTensors;
    const ref = tf.variableGrads(refLoss, model.trainableVariables);
    const got = tf.variableGrads(gotLoss, model.trainableVariables);
    expect(Math.abs((await got.value.data())[0]! - (await ref.value.data())[0]!)).toBeLessThan(
      1e-5,
    );
    for (const name of Object.keys(ref.grads)) {
      const want = await ref.grads[name]!.data();
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      const diff = maxAbsDiff(await got.grads[name]!.data(), want);
      expect(diff).toBeLessThan(1e-6 * scale);
    }
    tf.dispose([ref.value, got.value, ...Object.values(ref.grads), ...Object.values(got.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
