// Vocabulary matrices split where a device limit binds (issue 21): block sizes by hand; the head's
// log-probs / entropies over blocks against the unchunked log-softmax of the whole matrix (values
// and gradients); and a model whose embedding (tied) or head (untied) is stored in 2 or 3 blocks
// against the same model unsplit: logits, log-probs, entropies, gradients w.r.t. the hidden states
// and w.r.t. every variable (the embedding blocks side by side), no leaks; on cpu and wasm.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { setUpBackend, TINY_CONFIG } from '../test/helpers.js';
import { createRandomModel } from './checkpoint.js';
import { deviceBindingLimitBytes, MAX_BINDING_BYTES_ENV } from './device-limits.js';
import { headLogProbs } from './head-log-probs.js';
import type { LlamaModel } from './llama-model.js';
import { type VocabMatrix, vocabBlockSizes } from './vocab-matrix.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

afterAll(() => setUpBackend());

describe('vocabBlockSizes', () => {
  it('splits only over the limit, into near-equal blocks with a remainder', () => {
    // 10 rows of 4 floats = 16 bytes per row, 160 bytes in all.
    expect(vocabBlockSizes(10, 4, 160, 'w')).toEqual([10]);
    expect(vocabBlockSizes(10, 4, Number.POSITIVE_INFINITY, 'w')).toEqual([10]);
    expect(vocabBlockSizes(10, 4, 159, 'w')).toEqual([5, 5]); // 9 rows fit: K=2
    expect(vocabBlockSizes(10, 4, 64, 'w')).toEqual([4, 4, 2]); // 4 rows fit: K=3
    expect(() => vocabBlockSizes(10, 4, 15, 'w')).toThrow(/w: one row of 16 bytes exceeds/);
  });

  it('reads no limit off webgpu, and the environment override', () => {
    expect(deviceBindingLimitBytes()).toBe(Number.POSITIVE_INFINITY); // cpu
    process.env[MAX_BINDING_BYTES_ENV] = '4096';
    try {
      expect(deviceBindingLimitBytes()).toBe(4096);
      process.env[MAX_BINDING_BYTES_ENV] = '-1';
      expect(() => deviceBindingLimitBytes()).toThrow(/ATMANRL_MAX_BINDING_BYTES=-1/);
    } finally {
      delete process.env[MAX_BINDING_BYTES_ENV];
    }
  });
});

/** The unsplit reference: log-probs and entropies from the full `[N,V]` logits. */
function reference(h: tf.Tensor2D, w: tf.Tensor2D, targets: number[], tau: number) {
  const logp = tf.logSoftmax(tf.div(tf.matMul(h, w), tau)); // [N,V]
  const onehot = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), w.shape[1]), 'float32');
  return {
    logProbs: tf.sum(tf.mul(logp, onehot), 1),
    entropy: tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)),
  };
}

const TIED_BYTES = TINY_CONFIG.vocab_size * TINY_CONFIG.hidden_size * 4; // 262·32·4 = 33,536
/** Limits giving 1, 2 ([131,131]) and 3 ([88,88,86]) blocks of the 262-row vocabulary. */
const LIMITS = [
  { blocks: [262], limit: TIED_BYTES },
  { blocks: [131, 131], limit: 131 * 128 },
  { blocks: [88, 88, 86], limit: 100 * 128 },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`vocab blocks (${backend})`, () => {
    it('headLogProbs over blocks equals the unsplit log-softmax, values and gradients', async () => {
      await initBackend({ prefer: backend });
      const n = 7;
      const d = 5;
      const targets = [0, 3, 10, 4, 7, 1, 5]; // in every block of [4,4,3]
      const h = tf.randomNormal([n, d], 0, 1, 'float32', 1) as tf.Tensor2D;
      const w = tf.randomNormal([d, 11], 0, 1, 'float32', 2) as tf.Tensor2D;
      const a = tf.randomNormal([n], 0, 1, 'float32', 3);
      const e = tf.randomNormal([n], 0, 1, 'float32', 4);
      const combine = (r: { logProbs: tf.Tensor; entropy: tf.Tensor }) =>
        tf.add(tf.sum(tf.mul(r.logProbs, a)), tf.sum(tf.mul(r.entropy, e))) as tf.Scalar;
      const ref = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor) =>
        combine(reference(hh as tf.Tensor2D, ww as tf.Tensor2D, targets, 0.7)),
      )([h, w]);
      const refVals = reference(h, w, targets, 0.7);
      const [refLp, refEnt, refGh, refGw] = await Promise.all([
        refVals.logProbs.data(),
        refVals.entropy.data(),
        ref.grads[0]!.data(),
        ref.grads[1]!.data(),
      ]);
      for (const widths of [[11], [6, 5], [4, 4, 3]]) {
        const blocks: tf.Tensor2D[] = [];
        let c0 = 0;
        for (const wd of widths) {
          blocks.push(tf.slice(w, [0, c0], [d, wd]));
          c0 += wd;
        }
        for (const chunkRows of [3, 100]) {
          const before = tf.memory().numTensors;
          const vals = headLogProbs(h, blocks, targets, { temperature: 0.7, chunkRows });
          expect(maxAbsDiff(await vals.logProbs.data(), refLp)).toBeLessThan(1e-6);
          expect(maxAbsDiff(await vals.entropy.data(), refEnt)).toBeLessThan(1e-6);
          const got = tf.valueAndGrads((hh: tf.Tensor, ...bs: tf.Tensor[]) =>
            combine(
              headLogProbs(hh as tf.Tensor2D, bs as tf.Tensor2D[], targets, {
                temperature: 0.7,
                chunkRows,
              }),
            ),
          )([h, ...blocks]);
          expect(got.grads).toHaveLength(1 + widths.length);
          expect(maxAbsDiff(await got.grads[0]!.data(), refGh)).toBeLessThan(1e-6);
          const gw = tf.concat(got.grads.slice(1), 1); // [D,V]
          expect(maxAbsDiff(await gw.data(), refGw)).toBeLessThan(1e-6);
          tf.dispose([vals.logProbs, vals.entropy, got.value, ...got.grads, gw]);
          expect(tf.memory().numTensors).toBe(before);
        }
        tf.dispose(blocks);
      }
      tf.dispose([h, w, a, e, ref.value, ...ref.grads, refVals.logProbs, refVals.entropy]);
    });

    for (const tie of [true, false]) {
      it(`a model with its ${tie ? 'tied embedding' : 'embedding and head'} in 1, 2 and 3 blocks equals the unsplit one`, async () => {
        await initBackend({ prefer: backend });
        const config = { ...TINY_CONFIG, tie_word_embeddings: tie };
        const want = await measure(createRandomModel(config, 7), true);
        for (const { blocks, limit } of LIMITS) {
          const model = createRandomModel(config, 7, { maxBindingBytes: limit });
          const widths = (m: VocabMatrix) => m.blocks.map((b) => b.shape[1]);
          expect(widths(model.weights.embed)).toEqual(blocks);
          if (!tie) expect(widths(model.weights.lmHead!)).toEqual(blocks);
          expect(model.variableNames).toHaveLength(model.variables.length);
          if (blocks.length > 1)
            expect(model.variableNames[0]).toBe(`model.embed_tokens.weight[0:${blocks[0]}]`);
          const before = tf.memory().numTensors;
          const got = await measure(model, false);
          expect(tf.memory().numTensors).toBe(before);
          expect(maxAbsDiff(got.logits, want.logits)).toBeLessThan(1e-6);
          expect(maxAbsDiff(got.logProbs, want.logProbs)).toBeLessThan(1e-6);
          // Entropies are ~ln V = 5.6 (float32 ulp 4.8e-7) summed in another order: relative.
          expect(maxAbsDiff(got.entropy, want.entropy)).toBeLessThan(1e-6 * Math.log(262));
          // Gradients relative to their largest entry (as the chunked-head tests): 1e-6 at the
          // head; the layers' weights sit behind 2 layers of float32 rounding in another order
          // (measured up to 1.1e-6 on wasm), so 2e-6 there.
          const scale = (x: Float32Array) => Math.max(1, ...Array.from(x, Math.abs));
          const rel = (g: Float32Array, w: Float32Array) => maxAbsDiff(g, w) / scale(w);
          expect(rel(got.dHidden, want.dHidden)).toBeLessThan(1e-6);
          expect(Object.keys(got.grads)).toEqual(Object.keys(want.grads));
          for (const name of Object.keys(want.grads)) {
            const tol = name.startsWith('model.layers.') ? 2e-6 : 1e-6;
            expect(rel(got.grads[name]!, want.grads[name]!), name).toBeLessThan(tol);
          }
          // The embedding's gradient is not trivially zero (gather and, tied, the head).
          const ge = want.grads['model.embed_tokens.weight']!;
          expect(Math.max(...Array.from(ge, Math.abs))).toBeGreaterThan(1e-3);
          // clone keeps the blocks; assign slices a whole [D,V] value into them.
          const copy = model.clone({ trainable: false });
          expect(widths(copy.weights.embed)).toEqual(blocks);
          const whole = tf.ones([TINY_CONFIG.hidden_size, TINY_CONFIG.vocab_size]);
          copy.weights.embed.assign(whole);
          const back = tf.concat([...copy.weights.embed.blocks], 1);
          expect(Array.from(await back.data()).every((x) => x === 1)).toBe(true);
          tf.dispose([whole, back]);
          copy.dispose();
          model.dispose();
        }
      });
    }
  });
}

/**
 * Everything the split must preserve, read back: forward logits; log-probs and entropies through
 * `headLogProbs` (chunks of 3 rows) on the hidden states; their gradient w.r.t. the hidden states;
 * and d(Σ a·logProbs + Σ b·entropy of sequenceLogProbs-style rows) w.r.t. every variable, keyed by
 * checkpoint name (a split matrix's blocks joined along V). Disposes the model when `dispose`.
 */
async function measure(model: LlamaModel, dispose: boolean) {
  const ids = [
    [256, 40, 41, 50, 51, 52, 260],
    [256, 42, 43, 255, 0, 130, 131],
  ];
  const t = ids[0]!.length;
  const d = model.config.hidden_size;
  const targets = ids.flatMap((r) => [...r.slice(1), 1]);
  const a = tf.tensor1d(targets.map((_, i) => 1 + (i % 3)));
  const b = tf.tensor1d(targets.map((_, i) => 0.5 - (i % 2)));
  const input = tf.tensor2d(ids, undefined, 'int32');
  const loss = () =>
    tf.tidy(() => {
      const hidden = tf.reshape(model.hiddenStates(input), [2 * t, d]) as tf.Tensor2D;
      const r = model.headLogProbs(hidden, targets, { chunkRows: 3, temperature: 0.9 });
      return tf.add(tf.sum(tf.mul(r.logProbs, a)), tf.sum(tf.mul(r.entropy, b))) as tf.Scalar;
    });
  const logitsT = model.forward(input);
  const hidden = tf.tidy(() => tf.reshape(model.hiddenStates(input), [2 * t, d]) as tf.Tensor2D);
  const vals = model.headLogProbs(hidden, targets, { chunkRows: 3, temperature: 0.9 });
  const dHiddenT = tf.grad((h: tf.Tensor) => {
    const r = model.headLogProbs(h as tf.Tensor2D, targets, { chunkRows: 3, temperature: 0.9 });
    return tf.add(tf.sum(tf.mul(r.logProbs, a)), tf.sum(tf.mul(r.entropy, b))) as tf.Scalar;
  })(hidden);
  const { value, grads } = tf.variableGrads(loss, model.trainableVariables);
  const out: Record<string, Float32Array> = {};
  const names = model.variableNames;
  const vars = model.variables;
  for (let i = 0; i < vars.length; ) {
    const base = names[i]!.replace(/\[\d+:\d+\]$/, '');
    const parts: tf.Tensor[] = [];
    while (i < vars.length && names[i]!.replace(/\[\d+:\d+\]$/, '') === base) {
      parts.push(grads[vars[i]!.name]!);
      i++;
    }
    const joined = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    out[base] = (await joined.data()) as Float32Array;
    if (parts.length > 1) joined.dispose();
  }
  const result = {
    logits: (await logitsT.data()) as Float32Array,
    logProbs: (await vals.logProbs.data()) as Float32Array,
    entropy: (await vals.entropy.data()) as Float32Array,
    dHidden: (await dHiddenT.data()) as Float32Array,
    grads: out,
  };
  tf.dispose([logitsT, hidden, vals.logProbs, vals.entropy, dHiddenT, value, a, b, input]);
  tf.dispose(Object.values(grads));
  if (dispose) model.dispose();
  return result;
}
