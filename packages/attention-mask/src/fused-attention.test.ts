// Fused attention on webgpu (Dawn: Mesa lavapipe on CI) against the float64 PyTorch golden
// fixtures (outputs and the gradients for q, k, v and the bias; the AtMan-suppression cases stay
// on the unfused path and are left out), against the unfused `attention` on the same backend, its
// dispatch counts and no leaks; plus the boundary checks it shares with `attention`.
// Skipped with the reason when Dawn offers no adapter (failing on CI with ATMANRL_REQUIRE_WEBGPU=1).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webgpuGate } from '../test/helpers.js';
import { countWebgpuDispatches } from './_internal/webgpu-dispatch.js';
import { attention } from './attention.js';
import { AttentionMaskError } from './errors.js';
import { type FusedAttentionOptions, fusedAttention } from './fused-attention.js';
import { initBackend } from './node/backend.js';

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
  queryOffset?: number;
  keyMask?: Num[];
}
const fixtures = (
  JSON.parse(readFileSync(new URL('../test/fixtures/attention.json', import.meta.url), 'utf8')) as {
    cases: Fixture[];
  }
).cases.filter((f) => f.suppress === undefined);
const num = (xs: Num[]) => xs.map((x) => (x === '-Infinity' ? Number.NEGATIVE_INFINITY : x));
/** As the attention-mask golden test: float32 vs float64, |values| ≲ 5. */
const OUT_TOL = 2e-5;
const GRAD_TOL = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    m = Math.max(m, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
  }
  return m;
}

const { run, label } = await webgpuGate();

describe('fusedAttention off webgpu', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });
  it('refuses another backend and suppression, naming the fix', () => {
    const q = tf.zeros([1, 2, 3, 4]) as tf.Tensor4D;
    const k = tf.zeros([1, 1, 3, 4]) as tf.Tensor4D;
    expect(() => fusedAttention(q, k, k)).toThrow(/runs on webgpu only.*use attention\(\)/);
    expect(() => fusedAttention(q, k, k)).toThrow(AttentionMaskError);
    tf.dispose([q, k]);
  });
});

function setUp(f: Fixture) {
  const { B, H, Hkv, Tq, Tk, d } = f.shape;
  const opts: FusedAttentionOptions = {};
  if (f.keyMask) opts.keyMask = tf.tensor2d(num(f.keyMask), [B, Tk]);
  if (f.queryOffset !== undefined) opts.queryOffset = f.queryOffset;
  if (f.queries) opts.queries = Array.isArray(f.queries) ? tf.tensor2d(f.queries) : f.queries;
  return {
    q: tf.tensor4d(num(f.q), [B, H, Tq, d]),
    k: tf.tensor4d(num(f.k), [B, Hkv, Tk, d]),
    v: tf.tensor4d(num(f.v), [B, Hkv, Tk, d]),
    w: tf.tensor4d(num(f.w), [B, H, Tq, d]),
    bias: f.bias ? tf.tensor2d(num(f.bias), [B, Tk]) : undefined,
    opts,
  };
}

type Attn = typeof fusedAttention;
async function outputsAndGrads(f: Fixture, op: Attn): Promise<Float32Array[]> {
  const { q, k, v, w, bias, opts } = setUp(f);
  const run = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb?: tf.Tensor) =>
    op(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, {
      ...opts,
      ...(bb ? { bias: bb as tf.Tensor2D } : {}),
    });
  const out = tf.tidy(() => run(q, k, v, bias));
  const grads = bias
    ? tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(run(qq, kk, vv, bb), w)),
      )([q, k, v, bias])
    : tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => tf.sum(tf.mul(run(qq, kk, vv), w)))(
        [q, k, v],
      );
  const values = (await Promise.all([out, ...grads].map((t) => t.data()))) as Float32Array[];
  tf.dispose([q, k, v, w, out, ...grads]);
  if (bias) bias.dispose();
  if (opts.keyMask) opts.keyMask.dispose();
  if (opts.queries instanceof tf.Tensor) opts.queries.dispose();
  return values;
}

describe.skipIf(!run)(`fused attention ${label}`, () => {
  beforeAll(async () => {
    const info = await initBackend({ prefer: 'webgpu' });
    expect(info.name).toBe('webgpu');
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('covers every golden case without suppression', () => {
    expect(fixtures.map((f) => f.name)).toEqual([
      'mha',
      'gqa_bias',
      'offset_block',
      'decode_row',
      'bias_neg_inf',
      'queries_range',
      'queries_mask',
      'left_padding_gqa',
    ]);
  });

  it.each(fixtures)(
    '$name: output and gradients match float64 PyTorch and the unfused op',
    async (f) => {
      const before = tf.memory().numTensors;
      const [o, gq, gk, gv, gb] = await outputsAndGrads(f, fusedAttention);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxAbsDiff(o!, num(f.out))).toBeLessThan(OUT_TOL);
      expect(maxAbsDiff(gq!, num(f.grad_q))).toBeLessThan(GRAD_TOL);
      expect(maxAbsDiff(gk!, num(f.grad_k))).toBeLessThan(GRAD_TOL);
      expect(maxAbsDiff(gv!, num(f.grad_v))).toBeLessThan(GRAD_TOL);
      if (f.grad_bias) expect(maxAbsDiff(gb!, num(f.grad_bias))).toBeLessThan(GRAD_TOL);
      const unfused = await outputsAndGrads(f, attention as unknown as Attn);
      for (let t = 0; t < unfused.length; t++) {
        expect(maxAbsDiff([o, gq, gk, gv, gb][t]!, unfused[t]!)).toBeLessThan(1e-5);
      }
    },
  );

  it('checks its inputs as attention does (one check) and refuses suppression', () => {
    const q = tf.zeros([1, 2, 3, 4]) as tf.Tensor4D;
    const k = tf.zeros([1, 1, 3, 5]) as tf.Tensor4D;
    const k3 = tf.zeros([1, 3, 3, 4]) as tf.Tensor4D;
    const ok = tf.zeros([1, 1, 3, 4]) as tf.Tensor4D;
    const s = tf.ones([1, 3]) as tf.Tensor2D;
    const messageOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(AttentionMaskError);
        return (e as Error).message;
      }
      throw new Error('expected a throw');
    };
    for (const [kk, opts] of [
      [k, {}],
      [k3, {}],
      [ok, { queryOffset: 1 }],
    ] as const) {
      const want = messageOf(() => attention(q, kk, ok, opts));
      expect(messageOf(() => fusedAttention(q, kk, ok, opts))).toBe(want);
    }
    expect(
      messageOf(() => fusedAttention(q, ok, ok, { suppress: s } as FusedAttentionOptions)),
    ).toMatch(/no AtMan suppression; call attention\(\)/);
    tf.dispose([q, k, k3, ok, s]);
  });

  it('launches 1 dispatch forward and 5 backward (bias), fewer than unfused', async () => {
    const f = fixtures.find((x) => x.name === 'queries_range')!;
    const { q, k, v, bias, opts } = setUp(f);
    const count = async (op: Attn, withGrad: boolean) => {
      const go = () =>
        withGrad
          ? tf.grads((bb: tf.Tensor) => op(q, k, v, { ...opts, bias: bb as tf.Tensor2D }))([bias!])
          : [tf.tidy(() => op(q, k, v, { ...opts, bias: bias! }))];
      const read = async (ts: tf.Tensor[]) => {
        await Promise.all(ts.map((t) => t.data()));
        tf.dispose(ts);
      };
      await read(go()); // compiles
      return (await countWebgpuDispatches(() => read(go()))).dispatches;
    };
    expect(await count(fusedAttention, false)).toBe(1);
    // forward (1) + stats, dq, dk, dv, dbias (5) [+ a fill of ones for dy, where tfjs runs one]
    const withGrad = await count(fusedAttention, true);
    expect(withGrad).toBeGreaterThanOrEqual(6);
    expect(withGrad).toBeLessThanOrEqual(7);
    const unfused = attention as unknown as Attn;
    expect(await count(unfused, false)).toBeGreaterThan(5);
    expect(await count(unfused, true)).toBeGreaterThan(15);
    tf.dispose([q, k, v, bias!]);
  });
});
