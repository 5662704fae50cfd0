// The memory estimates bound what the tape really holds: tf.profile's peak bytes of a policy
// update and of a mask-fit forward+backward on wasm are below the estimate, and within 3x of it.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { setUpBackend } from '../test/helpers.js';
import { createRandomModel } from './checkpoint.js';
import { parseLlamaConfig } from './config.js';
import {
  headChunkBytes,
  maskFitRowBytes,
  modelStateBytes,
  trainTokenBytes,
  WASM_HEAP_LIMIT_BYTES,
} from './memory.js';

const CONFIGS = [
  {
    vocab_size: 3000,
    hidden_size: 64,
    intermediate_size: 256,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  },
  {
    vocab_size: 500,
    hidden_size: 96,
    intermediate_size: 192,
    num_hidden_layers: 3,
    num_attention_heads: 2,
    num_key_value_heads: 1,
  },
  {
    vocab_size: 500,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 6,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  },
];

describe('memory estimates', () => {
  afterAll(() => setUpBackend());

  it('bound the peak of a policy update (sequenceLogProbs forward + backward)', async () => {
    await initBackend({ prefer: 'wasm' });
    for (const input of CONFIGS) {
      const model = createRandomModel({ ...input, tie_word_embeddings: true }, 0);
      for (const [b, p, tc] of [
        [2, 16, 48],
        [3, 40, 88],
      ] as const) {
        const prompts = Array.from({ length: b }, () =>
          Array.from({ length: p }, (_, i) => i % 400),
        );
        const comps = Array.from({ length: b }, () =>
          Array.from({ length: tc }, (_, i) => (i * 7) % 400),
        );
        const peaks: number[] = [];
        for (const recompute of [false, true]) {
          model.recompute = recompute;
          const base = tf.memory().numBytes;
          const info = await tf.profile(() => {
            const { value, grads } = tf.variableGrads(
              () =>
                tf.tidy(() => tf.sum(model.sequenceLogProbs(prompts, comps).logProbs)) as tf.Scalar,
              model.trainableVariables,
            );
            tf.dispose([value, ...Object.values(grads)]);
          });
          const grads = model.trainableVariables.reduce((s, v) => s + 4 * v.size, 0);
          const measured = info.peakBytes - base - grads;
          const estimate =
            b * (p + tc) * trainTokenBytes(model.config, p + tc, { recompute }) +
            headChunkBytes(model.config, b * tc);
          const where = `${JSON.stringify(input)} B=${b} T=${p + tc} recompute=${recompute}`;
          expect(measured).toBeGreaterThan(0);
          expect(estimate, where).toBeGreaterThanOrEqual(measured);
          expect(estimate, where).toBeLessThan(3 * measured);
          peaks.push(measured);
        }
        model.recompute = false;
        // Recomputation lowers the measured peak once there is more than one layer to drop.
        expect(peaks[1]!).toBeLessThan(peaks[0]!);
      }
      model.dispose();
    }
  });

  it('state bytes count weights, gradients, moments and packed copies; the heap limit is 4 GiB', () => {
    const c = parseLlamaConfig({ ...CONFIGS[0]!, tie_word_embeddings: true }, 'test');
    const params = 2 * (2 * 64 + 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 256) + 64 * 3000 + 64;
    const matrices = params - 2 * 2 * 64 - 64;
    expect(modelStateBytes(c, { trainable: true })).toBe(4 * (4 * params + matrices));
    expect(modelStateBytes(c, { trainable: false })).toBe(4 * (params + matrices));
    expect(WASM_HEAP_LIMIT_BYTES).toBe(2 ** 32 - 2 ** 16);
    // A fit row grows with the answer length through the head only.
    const row = { promptLen: 20, suffixLen: 30, answerLen: 4 };
    expect(maskFitRowBytes(c, { ...row, answerLen: 5 }) - maskFitRowBytes(c, row)).toBe(
      4 * 4 * 3000,
    );
  });
});
