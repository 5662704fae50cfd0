// Golden fixtures from the float64 PyTorch reference (test/fixtures/gen_attention.py): outputs and
// gradients of L = Σ out ⊙ w w.r.t. q, k, v and bias, on cpu and wasm.
// Tolerances (float32 vs float64, |values| ≲ 5): outputs 2e-5, gradients 1e-4 absolute.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttentionOptions, attention } from '../src/attention.js';
import { initBackend } from '../src/node/backend.js';
import { maxAbsDiff, webgpuGate } from './helpers.js';

type Num = number | '-Infinity';
interface Fixture {
  name: string;
  shape: { B: number; H: number; Hkv: number; Tq: number; Tk: number; d: number };
  q: Num[];
  k: Num[];
  v: Num[];
  w: Num[];
  out: Num[];
  grad_q: Num[];
  grad_k: Num[];
  grad_v: Num[];
  bias?: Num[];
  grad_bias?: Num[];
  queries?: { start: number; end: number } | number[][];
  suppress?: Num[];
  suppressShift?: 'all-keys' | 'visible-keys';
  queryOffset?: number;
  keyMask?: Num[];
}

const fixtures = (
  JSON.parse(readFileSync(new URL('./fixtures/attention.json', import.meta.url), 'utf8')) as {
    cases: Fixture[];
  }
).cases;
const num = (xs: Num[]) => xs.map((x) => (x === '-Infinity' ? Number.NEGATIVE_INFINITY : x));

const OUT_TOL = 2e-5;
const GRAD_TOL = 1e-4;

// webgpu (Dawn: lavapipe on CI machines, a GPU elsewhere) whenever an adapter can be had; else
// skipped with the reason in the suite name (failing instead on CI with ATMANRL_REQUIRE_WEBGPU=1).
const gpu = await webgpuGate();
const backends = [
  { backend: 'cpu', label: 'cpu', skip: false },
  { backend: 'wasm', label: 'wasm', skip: false },
  { backend: 'webgpu', label: gpu.label, skip: !gpu.run },
] as const;

for (const { backend, label, skip } of backends)
  describe(`golden PyTorch fixtures on ${label}`, () => {
    if (skip) {
      it.skip('needs a WebGPU adapter', () => {});
      return;
    }
    let previous: string;
    beforeAll(async () => {
      previous = tf.getBackend();
      await initBackend({ prefer: backend as 'cpu' | 'wasm' | 'webgpu' });
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    it('covers the required cases', () => {
      expect(fixtures.map((f) => f.name)).toEqual([
        'mha',
        'gqa_bias',
        'offset_block',
        'decode_row',
        'bias_neg_inf',
        'queries_range',
        'queries_mask',
        'suppress',
        'suppress_visible_padding',
        'left_padding_gqa',
      ]);
    });

    it.each(fixtures)('$name: output and gradients match', async (f) => {
      const { B, H, Hkv, Tq, Tk, d } = f.shape;
      const q = tf.tensor4d(num(f.q), [B, H, Tq, d]);
      const k = tf.tensor4d(num(f.k), [B, Hkv, Tk, d]);
      const v = tf.tensor4d(num(f.v), [B, Hkv, Tk, d]);
      const w = tf.tensor4d(num(f.w), [B, H, Tq, d]);
      const bias = f.bias ? tf.tensor2d(num(f.bias), [B, Tk]) : tf.zeros([B, Tk]);
      const opts: AttentionOptions = {};
      if (f.suppress) opts.suppress = tf.tensor2d(num(f.suppress), [B, Tk]);
      if (f.keyMask) opts.keyMask = tf.tensor2d(num(f.keyMask), [B, Tk]);
      if (f.queryOffset !== undefined) opts.queryOffset = f.queryOffset;
      if (f.suppressShift) opts.suppressShift = f.suppressShift;
      if (f.queries) opts.queries = Array.isArray(f.queries) ? tf.tensor2d(f.queries) : f.queries;
      const run = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor) =>
        attention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, {
          ...opts,
          ...(f.bias ? { bias: bb as tf.Tensor2D } : {}),
        });
      const out = tf.tidy(() => run(q, k, v, bias));
      const loss = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb?: tf.Tensor) =>
        tf.sum(tf.mul(run(qq, kk, vv, bb ?? bias), w));
      const grads = f.bias
        ? tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor) =>
            loss(qq, kk, vv, bb),
          )([q, k, v, bias])
        : tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => loss(qq, kk, vv))([q, k, v]);
      const [o, gq, gk, gv, gb] = await Promise.all([out, ...grads].map((t) => t.data()));
      tf.dispose([q, k, v, w, bias, out, ...grads, opts.suppress, opts.keyMask]);
      if (opts.queries instanceof tf.Tensor) opts.queries.dispose();

      expect(maxAbsDiff(o!, num(f.out))).toBeLessThan(OUT_TOL);
      expect(maxAbsDiff(gq!, num(f.grad_q))).toBeLessThan(GRAD_TOL);
      expect(maxAbsDiff(gk!, num(f.grad_k))).toBeLessThan(GRAD_TOL);
      expect(maxAbsDiff(gv!, num(f.grad_v))).toBeLessThan(GRAD_TOL);
      if (f.grad_bias) expect(maxAbsDiff(gb!, num(f.grad_bias))).toBeLessThan(GRAD_TOL);
    });
  });
