import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setUpBackend, TINY_CONFIG } from '../test/helpers.js';
import { createRandomModel } from './checkpoint.js';
import type { LlamaModel } from './llama-model.js';
import { createTinyTokenizer } from './tiny-tokenizer.js';

const tok = createTinyTokenizer();
let model: LlamaModel;
const ids = tok.encode('The sum is 12');
const T = ids.length;

beforeAll(async () => {
  await setUpBackend();
  model = createRandomModel(TINY_CONFIG, 11, { tokenizer: tok });
});

async function logitsOf(run: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(run);
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const input = (x: number[][]) => tf.tensor2d(x, undefined, 'int32');

describe('LlamaModel.forward', () => {
  it('returns logits [B,T,V] and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const logits = tf.tidy(() => model.forward(input([ids, ids])));
    expect(logits.shape).toEqual([2, T, TINY_CONFIG.vocab_size]);
    const d = await logits.data();
    expect(d.every(Number.isFinite)).toBe(true);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is causal: a token never changes the logits of earlier positions', async () => {
    const a = await logitsOf(() => model.forward(input([ids])));
    const changed = [...ids.slice(0, -1), (ids.at(-1)! + 1) % 256];
    const b = await logitsOf(() => model.forward(input([changed])));
    const v = TINY_CONFIG.vocab_size;
    expect(maxAbsDiff(a.subarray(0, (T - 1) * v), b.subarray(0, (T - 1) * v))).toBe(0);
    expect(maxAbsDiff(a.subarray((T - 1) * v), b.subarray((T - 1) * v))).toBeGreaterThan(1e-4);
  });

  it('KV-cache decoding equals full recomputation', async () => {
    const full = await logitsOf(() => model.forward(input([ids])));
    const cache = model.createCache(1);
    const parts: Float32Array[] = [];
    parts.push(await logitsOf(() => model.forward(input([ids.slice(0, 5)]), { cache })));
    for (let i = 5; i < T; i++)
      parts.push(await logitsOf(() => model.forward(input([[ids[i]!]]), { cache })));
    expect(cache.length).toBe(T);
    cache.dispose();
    const stitched = new Float32Array(full.length);
    let off = 0;
    for (const p of parts) {
      stitched.set(p, off);
      off += p.length;
    }
    expect(maxAbsDiff(full, stitched)).toBeLessThan(1e-5);
  });

  it('a zero attentionBias leaves logits unchanged (exactly)', async () => {
    const plain = await logitsOf(() => model.forward(input([ids])));
    const zero = await logitsOf(() =>
      model.forward(input([ids]), { attentionBias: tf.zeros([1, T]) as tf.Tensor2D }),
    );
    expect(maxAbsDiff(plain, zero)).toBe(0);
  });

  it('a -Infinity bias on key j equals deleting token j (positions kept)', async () => {
    const j = 4;
    const bias = new Float32Array(T);
    bias[j] = Number.NEGATIVE_INFINITY;
    const biased = await logitsOf(() =>
      model.forward(input([ids]), { attentionBias: tf.tensor2d(bias, [1, T]) }),
    );
    const kept = ids.filter((_, i) => i !== j);
    const pos = [...Array(T).keys()].filter((i) => i !== j);
    const removed = await logitsOf(() =>
      model.forward(input([kept]), { positionIds: tf.tensor2d([pos], undefined, 'int32') }),
    );
    const v = TINY_CONFIG.vocab_size;
    // Rows other than j: biased row i == removed row (i < j ? i : i - 1).
    for (let i = 0; i < T; i++) {
      if (i === j) continue;
      const r = i < j ? i : i - 1;
      expect(
        maxAbsDiff(biased.subarray(i * v, (i + 1) * v), removed.subarray(r * v, (r + 1) * v)),
      ).toBeLessThan(1e-5);
    }
    expect(biased.every(Number.isFinite)).toBe(true);
  });

  it('updateCache:false with a prefix cache equals full recomputation, bias gradient included', async () => {
    const p = 6;
    const cache = model.createCache(1);
    tf.tidy(() => {
      model.forward(input([ids.slice(0, p)]), { cache });
    });
    const suffix = input([ids.slice(p)]);
    const target = tf.tensor1d(ids.slice(p + 1).concat([0]), 'int32');
    // Bias only on keys after the cached prefix (saliency: CoT keys follow the cached prompt), so
    // the prefix's own keys/values do not depend on it.
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
    const g1 = tf.valueAndGrad((t: tf.Tensor) => lossWith(t, true))(theta);
    const g2 = tf.valueAndGrad((t: tf.Tensor) => lossWith(t, false))(theta);
    expect(cache.length).toBe(p); // not extended
    expect(Math.abs((await g1.value.data())[0]! - (await g2.value.data())[0]!)).toBeLessThan(1e-5);
    const gradCached = await g1.grad.data();
    const gradFull = await g2.grad.data();
    expect(maxAbsDiff(gradCached, gradFull)).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(gradFull, Math.abs))).toBeGreaterThan(1e-4); // the test can fail
    tf.dispose([g1.value, g1.grad, g2.value, g2.grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([theta, suffix, target, afterPrefix]);
    cache.dispose();
  });

  it('passes queries and suppress through to attention', async () => {
    const plain = await logitsOf(() => model.forward(input([ids])));
    const bias = new Float32Array(T);
    bias[2] = Number.NEGATIVE_INFINITY;
    // No query row selected: the bias has no effect.
    const none = await logitsOf(() =>
      model.forward(input([ids]), {
        attentionBias: tf.tensor2d(bias, [1, T]),
        queries: { start: T, end: T },
      }),
    );
    expect(maxAbsDiff(plain, none)).toBe(0);
    // Only rows >= 8 get it: rows < 8 unchanged, later rows changed.
    const late = await logitsOf(() =>
      model.forward(input([ids]), {
        attentionBias: tf.tensor2d(bias, [1, T]),
        queries: { start: 8, end: T },
      }),
    );
    const v = TINY_CONFIG.vocab_size;
    expect(maxAbsDiff(plain.subarray(0, 8 * v), late.subarray(0, 8 * v))).toBe(0);
    expect(maxAbsDiff(plain.subarray(8 * v), late.subarray(8 * v))).toBeGreaterThan(1e-4);
    // AtMan: factors of 1 only shift each score row (softmax-invariant); a 0.1 factor changes logits.
    const ones = await logitsOf(() =>
      model.forward(input([ids]), { suppress: tf.ones([1, T]) as tf.Tensor2D }),
    );
    expect(maxAbsDiff(plain, ones)).toBeLessThan(1e-5);
    const f = new Float32Array(T).fill(1);
    f[3] = 0.1;
    const damped = await logitsOf(() =>
      model.forward(input([ids]), { suppress: tf.tensor2d(f, [1, T]) }),
    );
    expect(maxAbsDiff(plain, damped)).toBeGreaterThan(1e-4);
  });

  it('outputRows returns those rows of the full output (cache, padding, query mask, recompute), bias gradient included', async () => {
    const p = 4;
    const b = 2;
    const full = [ids, [0, 0, ...ids.slice(2)]]; // row 1 left-padded by 2
    const mask = tf.tensor2d([Array(T).fill(1), [0, 0, ...Array(T - 2).fill(1)]]);
    const rows = { start: 5, end: 9 }; // of the T - p suffix rows
    const r = rows.end - rows.start;
    // A [B,T-p] query-row mask (saliency's 'answer' queries): rows 6 and 7 of item 0 only.
    const qm = tf.tensor2d([
      Array.from({ length: T - p }, (_, i) => (i === 6 || i === 7 ? 1 : 0)),
      Array(T - p).fill(0),
    ]);
    const cache = model.createCache(b);
    tf.tidy(() => {
      model.hiddenStates(input(full.map((x) => x.slice(0, p))), {
        cache,
        attentionMask: tf.slice(mask, [0, 0], [b, p]) as tf.Tensor2D,
      });
    });
    const suffix = input(full.map((x) => x.slice(p)));
    const cols = tf.tensor2d([
      Array.from({ length: T }, (_, i) => (i >= p + 1 && i < p + 5 ? 1 : 0)),
    ]);
    const weights = tf.randomNormal([b, r, TINY_CONFIG.hidden_size], 0, 1, 'float32', 3);
    const lossWith = (theta: tf.Tensor, cut: boolean): tf.Scalar => {
      const bias = tf.mul(tf.mul(10, tf.minimum(theta, 0)), cols) as tf.Tensor2D; // [B,T]
      const o = {
        cache,
        updateCache: false,
        attentionMask: mask as tf.Tensor2D,
        attentionBias: bias,
        queries: qm as tf.Tensor2D,
      };
      const h = cut
        ? model.hiddenStates(suffix, { ...o, outputRows: rows })
        : tf.slice(model.hiddenStates(suffix, o), [0, rows.start, 0], [b, r, -1]);
      expect(h.shape).toEqual([b, r, TINY_CONFIG.hidden_size]);
      return tf.sum(tf.mul(h, weights)) as tf.Scalar;
    };
    const theta = tf.tensor2d(
      [0, 1].map((k) => Array.from({ length: T }, (_, i) => (i % 2 === k ? -0.4 : 0.1 - i / 10))),
    );
    const before = tf.memory().numTensors;
    for (const recompute of [false, true]) {
      model.recompute = recompute;
      try {
        const cut = tf.valueAndGrad((t: tf.Tensor) => lossWith(t, true))(theta);
        const all = tf.valueAndGrad((t: tf.Tensor) => lossWith(t, false))(theta);
        const [v1, v2] = [(await cut.value.data())[0]!, (await all.value.data())[0]!];
        expect(Math.abs(v1 - v2)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v2)));
        const gCut = await cut.grad.data();
        const gAll = await all.grad.data();
        expect(maxAbsDiff(gCut, gAll)).toBeLessThan(1e-4);
        // item 0 only gets the bias on rows 6, 7 (kept), item 1 on none: its gradient is 0
        expect(Math.max(...Array.from(gAll.subarray(0, T), Math.abs))).toBeGreaterThan(1e-3);
        expect(Math.max(...Array.from(gAll.subarray(T), Math.abs))).toBe(0);
        tf.dispose([cut.value, cut.grad, all.value, all.grad]);
      } finally {
        model.recompute = false;
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(cache.length).toBe(p);
    // Without a cache, on logits: the rows equal, and a bad range names the option.
    const a = await logitsOf(() => tf.slice(model.forward(input([ids])), [0, 2, 0], [1, 3, -1]));
    const c = await logitsOf(() =>
      model.forward(input([ids]), { outputRows: { start: 2, end: 5 } }),
    );
    expect(maxAbsDiff(a, c)).toBeLessThan(1e-5);
    expect(() =>
      tf.tidy(() => model.forward(input([ids]), { outputRows: { start: 3, end: T + 1 } })),
    ).toThrow(`outputRows is [3, ${T + 1}); expected integers 0 <= start < end <= T = ${T}`);
    tf.dispose([mask, qm, suffix, cols, weights, theta]);
    cache.dispose();
  });

  it('inputEmbeds equals inputIds through embed()', async () => {
    const a = await logitsOf(() => model.forward(input([ids])));
    const b = await logitsOf(() => model.forward(null, { inputEmbeds: model.embed(input([ids])) }));
    expect(maxAbsDiff(a, b)).toBe(0);
  });

  it('checks shapes at the boundary with messages naming the argument', () => {
    expect(() =>
      tf.tidy(() =>
        model.forward(input([ids]), { attentionBias: tf.zeros([1, T + 1]) as tf.Tensor2D }),
      ),
    ).toThrow(`attentionBias has shape [1,${T + 1}], expected [B,Tpast+T] = [1,${T}]`);
    expect(() => tf.tidy(() => model.forward(tf.tensor2d([ids]) as tf.Tensor2D))).toThrow(
      /dtype float32, expected int32/,
    );
    expect(() => model.forward(null)).toThrow(/needs inputIds or options.inputEmbeds/);
  });
});

describe('LlamaModel.sequenceLogProbs', () => {
  it('matches log-softmax of forward logits, masks padding, and is independent of batch mates', async () => {
    const prompts = [tok.encode('ab'), tok.encode('a longer prompt')];
    const comps = [
      tok.encode('xyz', { addSpecialTokens: false }),
      tok.encode('q', { addSpecialTokens: false }),
    ];
    const { logProbs, mask } = model.sequenceLogProbs(prompts, comps);
    expect(logProbs.shape).toEqual([2, 3]);
    expect(await mask.array()).toEqual([
      [1, 1, 1],
      [1, 0, 0],
    ]);
    const lp = (await logProbs.array()) as number[][];
    tf.dispose([logProbs, mask]);
    // Reference: unbatched forward over prompt+completion, log-softmax, pick.
    for (let r = 0; r < 2; r++) {
      const seq = [...prompts[r]!, ...comps[r]!];
      const ref = await logitsOf(() => tf.logSoftmax(model.forward(input([seq]))));
      const v = TINY_CONFIG.vocab_size;
      comps[r]!.forEach((id, j) => {
        const pos = prompts[r]!.length - 1 + j;
        expect(Math.abs(lp[r]![j]! - ref[pos * v + id]!)).toBeLessThan(1e-5);
      });
      expect(lp[r]!.slice(comps[r]!.length).every((x) => x === 0)).toBe(true);
    }
  });

  it('is differentiable w.r.t. trainableVariables, matches a finite difference, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const f = () =>
      tf.tidy(() => {
        const { logProbs } = model.sequenceLogProbs(
          [tok.encode('12')],
          [tok.encode('+3', { addSpecialTokens: false })],
        );
        return tf.sum(logProbs) as tf.Scalar;
      });
    const { value, grads } = tf.variableGrads(f, model.trainableVariables);
    expect(Object.keys(grads)).toHaveLength(model.trainableVariables.length);
    // Finite difference on one embedding entry that the input uses (the '1' byte, column 49).
    const w = model.weights.embed.blocks[0]!;
    const idx = 3 * TINY_CONFIG.vocab_size + 49; // [D,V] row 3, column 49
    const g = (await grads[w.name]!.data())[idx]!;
    const base = await w.data();
    const eps = 1e-2;
    const shifted = (delta: number) => {
      const copy = Float32Array.from(base);
      copy[idx] = copy[idx]! + delta;
      return copy;
    };
    const evalAt = async (delta: number) => {
      const t = tf.tensor(shifted(delta), w.shape);
      w.assign(t);
      t.dispose();
      const l = f();
      const v = (await l.data())[0]!;
      l.dispose();
      return v;
    };
    const fd = ((await evalAt(eps)) - (await evalAt(-eps))) / (2 * eps);
    await evalAt(0);
    expect(Math.abs(g)).toBeGreaterThan(1e-4);
    expect(Math.abs(fd - g)).toBeLessThan(2e-3 * Math.max(1, Math.abs(g)));
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('LlamaModel.clone', () => {
  it('gives a frozen copy that keeps its values when the original is updated', async () => {
    const frozen = model.clone({ trainable: false });
    expect(frozen.trainableVariables).toHaveLength(0);
    const before = await logitsOf(() => frozen.forward(input([ids])));
    const orig = model.weights.norm;
    const saved = orig.clone();
    orig.assign(tf.mul(saved, 2));
    const after = await logitsOf(() => frozen.forward(input([ids])));
    const changed = await logitsOf(() => model.forward(input([ids])));
    orig.assign(saved);
    saved.dispose();
    expect(maxAbsDiff(before, after)).toBe(0);
    expect(maxAbsDiff(before, changed)).toBeGreaterThan(1e-3);
    frozen.dispose();
  });
});
