// Conformance of the model on the webgpu backend (Dawn: Mesa lavapipe on CI, a GPU elsewhere):
// golden logits vs the float64 PyTorch fixtures, greedy generation, KV-cache == full, and the
// attention-bias gradient (cached prefix and full) against the cpu backend. Skipped with the
// reason in the suite name when Dawn offers no adapter, except on CI with
// ATMANRL_REQUIRE_WEBGPU=1, where the missing adapter fails the suite.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandomModel } from '../src/checkpoint.js';
import { loadModel } from '../src/node/checkpoint.js';
import { createTinyTokenizer } from '../src/tiny-tokenizer.js';
import { TINY_CONFIG, webgpuSuite } from './helpers.js';

/** float32 on a GPU (other reduction orders than cpu) vs float64: as the cpu/wasm golden test. */
const LOGIT_TOLERANCE = 5e-5;
/** webgpu vs cpu, both float32. */
const GRAD_TOLERANCE = 1e-5;

interface Variant {
  input_ids: number[][];
  logits: number[];
  bias: (number | '-inf')[][];
  logits_with_bias: number[];
  greedy_prompt: number[];
  greedy_continuation: number[];
}
const fixtures = join(import.meta.dirname, 'fixtures');
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as {
  variants: Record<string, Variant>;
};

const { run, label } = await webgpuSuite();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function read(run: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(run);
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

const input = (x: number[][]) => tf.tensor2d(x, undefined, 'int32');
const tok = createTinyTokenizer();
const ids = tok.encode('The sum is 12');
const T = ids.length;

/**
 * Loss and d loss / d theta for the mask-fit shape: bias = 10·min(θ,0) on keys after a cached
 * prefix, read through the cache (updateCache:false) and by full recomputation.
 */
async function biasGradients(): Promise<{ cached: Float32Array; full: Float32Array }> {
  const model = createRandomModel(TINY_CONFIG, 11, { tokenizer: tok });
  const p = 6;
  const cache = model.createCache(1);
  tf.tidy(() => {
    model.forward(input([ids.slice(0, p)]), { cache });
  });
  const suffix = input([ids.slice(p)]);
  const target = tf.tensor1d(ids.slice(p + 1).concat([0]), 'int32');
  const afterPrefix = tf.tensor2d([Array.from({ length: T }, (_, i) => (i >= p ? 1 : 0))]);
  const lossWith = (theta: tf.Tensor, useCache: boolean): tf.Scalar => {
    const bias = tf.mul(tf.mul(10, tf.minimum(theta, 0)), afterPrefix) as tf.Tensor2D; // [1,T]
    const logits = useCache
      ? model.forward(suffix, { cache, updateCache: false, attentionBias: bias })
      : tf.slice(model.forward(input([ids]), { attentionBias: bias }), [0, p, 0], [1, T - p, -1]);
    const logp = tf.logSoftmax(tf.reshape(logits, [T - p, -1]));
    return tf.neg(
      tf.mean(tf.sum(tf.mul(logp, tf.oneHot(target, TINY_CONFIG.vocab_size)), 1)),
    ) as tf.Scalar;
  };
  const theta = tf.tensor2d([
    Array.from({ length: T }, (_, i) => (i % 2 === 0 ? -0.4 : 0.2 - i / 10)),
  ]);
  const before = tf.memory().numTensors;
  const g1 = tf.grad((t: tf.Tensor) => lossWith(t, true))(theta);
  const g2 = tf.grad((t: tf.Tensor) => lossWith(t, false))(theta);
  const [cached, full] = (await Promise.all([g1.data(), g2.data()])) as Float32Array[];
  tf.dispose([g1, g2]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([theta, suffix, target, afterPrefix]);
  cache.dispose();
  model.dispose();
  return { cached: cached!, full: full! };
}

describe.skipIf(!run)(`tiny Llama ${label}`, () => {
  let reference: { cached: Float32Array; full: Float32Array };
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
    reference = await biasGradients();
    const info = await initBackend({ prefer: 'webgpu' });
    expect(info.name).toBe('webgpu');
    expect(info.adapter).toBeDefined();
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it.each(['tied', 'untied'])(
    '%s: logits and biased logits match float64 PyTorch; greedy generation matches',
    async (variant) => {
      const g = golden.variants[variant]!;
      const model = await loadModel(join(fixtures, `tiny-llama-${variant}`));
      const before = tf.memory().numTensors;
      const bias = tf.tensor2d(
        g.bias.map((r) => r.map((x) => (x === '-inf' ? Number.NEGATIVE_INFINITY : x))),
      );
      const plain = await read(() => model.forward(input(g.input_ids)));
      const biased = await read(() => model.forward(input(g.input_ids), { attentionBias: bias }));
      expect(maxAbsDiff(plain, g.logits)).toBeLessThan(LOGIT_TOLERANCE);
      expect(maxAbsDiff(biased, g.logits_with_bias)).toBeLessThan(LOGIT_TOLERANCE);
      const [out] = await model.generate([g.greedy_prompt], {
        maxNewTokens: g.greedy_continuation.length,
        eosTokenIds: [],
      });
      expect(out!.tokenIds).toEqual(g.greedy_continuation);
      bias.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    },
  );

  it('KV-cache decoding equals full recomputation', async () => {
    const model = createRandomModel(TINY_CONFIG, 11, { tokenizer: tok });
    const full = await read(() => model.forward(input([ids])));
    const cache = model.createCache(1);
    const stitched = new Float32Array(full.length);
    let off = 0;
    // A prefix, then three one-token steps (each new length compiles new shaders on webgpu).
    for (const part of [ids.slice(0, T - 3), ...ids.slice(T - 3).map((id) => [id])]) {
      const logits = await read(() => model.forward(input([part]), { cache }));
      stitched.set(logits, off);
      off += logits.length;
    }
    expect(cache.length).toBe(T);
    expect(maxAbsDiff(full, stitched)).toBeLessThan(1e-5);
    cache.dispose();
    model.dispose();
  });

  it('bias gradient through a cached prefix equals the full one and the cpu backend', async () => {
    const { cached, full } = await biasGradients();
    expect(maxAbsDiff(cached, full)).toBeLessThan(GRAD_TOLERANCE);
    expect(maxAbsDiff(full, reference.full)).toBeLessThan(GRAD_TOLERANCE);
    expect(maxAbsDiff(cached, reference.cached)).toBeLessThan(GRAD_TOLERANCE);
    expect(Math.max(...Array.from(reference.full, Math.abs))).toBeGreaterThan(1e-4); // can fail
  });
});
