// Conformance suite for attention(), run on every backend: values against a float64 JS reference,
// gradients against finite differences of that reference, the laws of method.md §1, leaks.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flat, maxAbsDiff, nest4, randn } from '../test/helpers.js';
import { type Arr4, type RefOptions, refAttention } from '../test/reference.js';
import { type AttentionOptions, attention } from './attention.js';
import { AttentionMaskError } from './errors.js';
import { initBackend } from './node/backend.js';

interface Case {
  name: string;
  B: number;
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  d: number;
  opts: RefOptions;
}

const NEG = Number.NEGATIVE_INFINITY;
const cases: Case[] = [
  { name: 'plain MHA', B: 2, H: 2, Hkv: 2, Tq: 5, Tk: 5, d: 4, opts: {} },
  { name: 'GQA H=4 Hkv=2', B: 1, H: 4, Hkv: 2, Tq: 4, Tk: 4, d: 3, opts: {} },
  { name: 'decode block Tq<Tk', B: 2, H: 2, Hkv: 1, Tq: 2, Tk: 6, d: 4, opts: {} },
  { name: 'offset block', B: 1, H: 2, Hkv: 1, Tq: 3, Tk: 7, d: 4, opts: { queryOffset: 2 } },
  {
    name: 'bias with -Infinity',
    B: 2,
    H: 2,
    Hkv: 1,
    Tq: 5,
    Tk: 5,
    d: 4,
    opts: {
      bias: [
        [0, -1.5, NEG, 0.3, -4],
        [NEG, 0.5, -2, NEG, 1],
      ],
    },
  },
  {
    name: 'bias on query range',
    B: 1,
    H: 2,
    Hkv: 2,
    Tq: 6,
    Tk: 6,
    d: 4,
    opts: { bias: [[-3, 1, NEG, -0.5, 2, 0]], queries: { start: 3, end: 5 } },
  },
  {
    name: 'bias on query mask',
    B: 2,
    H: 2,
    Hkv: 1,
    Tq: 4,
    Tk: 4,
    d: 4,
    opts: {
      bias: [
        [-2, 1, 0.5, -1],
        [1, NEG, 0, 2],
      ],
      queries: [
        [0, 1, 0, 1],
        [1, 1, 0, 0],
      ],
    },
  },
  {
    name: 'suppress (all-keys shift)',
    B: 2,
    H: 2,
    Hkv: 1,
    Tq: 5,
    Tk: 5,
    d: 4,
    opts: {
      suppress: [
        [1, 0.1, 1, 1, 0.1],
        [0.1, 1, 1, 0.5, 1],
      ],
    },
  },
  {
    name: 'suppress (visible-keys shift) + keyMask',
    B: 2,
    H: 2,
    Hkv: 2,
    Tq: 5,
    Tk: 5,
    d: 4,
    opts: {
      suppress: [
        [1, 0.1, 1, 1, 0.1],
        [0.1, 1, 1, 0.5, 1],
      ],
      suppressShift: 'visible-keys',
      keyMask: [
        [1, 1, 1, 1, 1],
        [0, 0, 1, 1, 1],
      ],
    },
  },
  {
    name: 'left padding + bias',
    B: 2,
    H: 2,
    Hkv: 1,
    Tq: 4,
    Tk: 4,
    d: 4,
    opts: {
      keyMask: [
        [0, 0, 1, 1],
        [1, 1, 1, 1],
      ],
      bias: [
        [0, 0, -1, 0.5],
        [NEG, 0, 0, 0],
      ],
    },
  },
];

function toTensors(c: Case, seed: number) {
  const q = randn([c.B, c.H, c.Tq, c.d], seed);
  const k = randn([c.B, c.Hkv, c.Tk, c.d], seed + 1);
  const v = randn([c.B, c.Hkv, c.Tk, c.d], seed + 2);
  return { q, k, v };
}

function tfOptions(o: RefOptions): AttentionOptions {
  const out: AttentionOptions = {};
  if (o.bias) out.bias = tf.tensor2d(o.bias);
  if (o.suppress) out.suppress = tf.tensor2d(o.suppress);
  if (o.keyMask) out.keyMask = tf.tensor2d(o.keyMask);
  if (o.queryOffset !== undefined) out.queryOffset = o.queryOffset;
  if (o.suppressShift) out.suppressShift = o.suppressShift;
  if (o.queries !== undefined) {
    out.queries = Array.isArray(o.queries) ? tf.tensor2d(o.queries) : o.queries;
  }
  return out;
}

function disposeOptions(o: AttentionOptions): void {
  for (const t of [o.bias, o.suppress, o.keyMask]) t?.dispose();
  if (o.queries instanceof tf.Tensor) o.queries.dispose();
}

/** Weighted-sum loss used for gradient checks: L = Σ out ⊙ W. */
function refLoss(q: Arr4, k: Arr4, v: Arr4, o: RefOptions, w: number[]): number {
  const out = flat(refAttention(q, k, v, o));
  return out.reduce((s, x, i) => s + x * w[i]!, 0);
}

describe.each(['cpu', 'wasm'] as const)('attention on %s', (backend) => {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await initBackend({ prefer: backend });
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it.each(cases)('forward matches the float64 reference: $name', async (c) => {
    const { q, k, v } = toTensors(c, 11);
    const opts = tfOptions(c.opts);
    const out = tf.tidy(() => attention(tf.tensor4d(q), tf.tensor4d(k), tf.tensor4d(v), opts));
    const got = await out.data();
    out.dispose();
    disposeOptions(opts);
    const want = flat(refAttention(q, k, v, c.opts));
    expect(got.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(got, want)).toBeLessThan(2e-5);
  });

  it.each(cases)('d loss / d bias, q, k matches finite differences: $name', async (c) => {
    const { q, k, v } = toTensors(c, 23);
    const ro: RefOptions = { ...c.opts, bias: c.opts.bias ?? randn([c.B, c.Tk], 5, 0.5) };
    const w = flat(randn([c.B, c.H, c.Tq, c.d], 7));
    const opts = tfOptions(ro);
    const { bias: biasT, ...rest } = opts;
    const [qT, kT, vT, wT] = [tf.tensor4d(q), tf.tensor4d(k), tf.tensor4d(v), tf.tensor1d(w)];
    const grads = tf.grads((qq: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.reshape(
            attention(qq as tf.Tensor4D, kk as tf.Tensor4D, vT, {
              ...rest,
              bias: bb as tf.Tensor2D,
            }),
            [-1],
          ),
          wT,
        ),
      ),
    )([qT, kT, biasT!]);
    const [gq, gk, gb] = (await Promise.all(grads.map((g) => g.data()))) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    tf.dispose([...grads, qT, kT, vT, wT]);
    disposeOptions(opts);
    const eps = 1e-6;
    // central differences of the float64 reference (bias entries that are -Infinity stay fixed)
    const fdBias = ro.bias!.flatMap((row, b) =>
      row.map((x, j) => {
        if (x === NEG) return 0;
        const plus = ro.bias!.map((r) => [...r]);
        const minus = ro.bias!.map((r) => [...r]);
        plus[b]![j] = x + eps;
        minus[b]![j] = x - eps;
        return (
          (refLoss(q, k, v, { ...ro, bias: plus }, w) -
            refLoss(q, k, v, { ...ro, bias: minus }, w)) /
          (2 * eps)
        );
      }),
    );
    const fd4 = (which: 'q' | 'k') => {
      const base = which === 'q' ? q : k;
      const f = flat(base);
      const shape = [base.length, base[0]!.length, base[0]![0]!.length, base[0]![0]![0]!.length];
      return f.map((_, idx) => {
        const rebuild = (delta: number): Arr4 => {
          const g = [...f];
          g[idx]! += delta;
          return nest4(shape, g);
        };
        const lp =
          which === 'q' ? refLoss(rebuild(eps), k, v, ro, w) : refLoss(q, rebuild(eps), v, ro, w);
        const lm =
          which === 'q' ? refLoss(rebuild(-eps), k, v, ro, w) : refLoss(q, rebuild(-eps), v, ro, w);
        return (lp - lm) / (2 * eps);
      });
    };
    expect(gb.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(gb, fdBias)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gq, fd4('q'))).toBeLessThan(1e-4);
    expect(maxAbsDiff(gk, fd4('k'))).toBeLessThan(1e-4);
  });

  it('zero bias equals plain attention (bitwise on this backend)', async () => {
    const c = cases[1]!;
    const { q, k, v } = toTensors(c, 3);
    const [a, b] = tf.tidy(() => {
      const [qt, kt, vt] = [tf.tensor4d(q), tf.tensor4d(k), tf.tensor4d(v)];
      return [attention(qt, kt, vt), attention(qt, kt, vt, { bias: tf.zeros([c.B, c.Tk]) })];
    });
    const [da, db] = await Promise.all([a!.data(), b!.data()]);
    tf.dispose([a!, b!]);
    expect(maxAbsDiff(da, db)).toBe(0);
  });

  it('a -Infinity key equals attention computed without that key', async () => {
    const [B, H, T, d, drop] = [1, 2, 6, 4, 2];
    const q = randn([B, H, T, d], 41);
    const k = randn([B, 1, T, d], 42);
    const v = randn([B, 1, T, d], 43);
    const bias = [[0, 0, NEG, 0, 0, 0]];
    const without = (x: Arr4) => x.map((bb) => bb.map((hh) => hh.filter((_, j) => j !== drop)));
    const [full, reduced] = tf.tidy(() => {
      const f = attention(tf.tensor4d(q), tf.tensor4d(k), tf.tensor4d(v), {
        bias: tf.tensor2d(bias),
      });
      // Without the key: drop query row `drop` as well and keep absolute positions via keyMask-free
      // layout (row i > drop sees T-1 keys); compare the rows after the removed key.
      const qr = tf.tensor4d(without(q));
      const r = attention(qr, tf.tensor4d(without(k)), tf.tensor4d(without(v)));
      return [f, r];
    });
    const fd = await full!.array();
    const rd = await reduced!.array();
    tf.dispose([full!, reduced!]);
    for (let h = 0; h < H; h++) {
      const fRows = fd[0]![h]!.filter((_, i) => i !== drop);
      expect(maxAbsDiff(flat(fRows), flat(rd[0]![h]!))).toBeLessThan(1e-6);
    }
  });

  it('outputs at position i do not depend on tokens after i', async () => {
    const [B, H, T, d] = [1, 2, 6, 4];
    const q = randn([B, H, T, d], 51);
    const k = randn([B, 2, T, d], 52);
    const v = randn([B, 2, T, d], 53);
    const q2 = randn([B, H, T, d], 54);
    const k2 = randn([B, 2, T, d], 55);
    const v2 = randn([B, 2, T, d], 56);
    const cut = 3; // rows 0..cut-1 identical, later tokens changed
    const mix = (a: Arr4, b: Arr4) =>
      a.map((bb, i) => bb.map((hh, h) => hh.map((r, t) => (t < cut ? r : b[i]![h]![t]!))));
    const bias = [[0.5, -1, 0.2, -3, 1, 0]];
    const run = (qq: Arr4, kk: Arr4, vv: Arr4) =>
      tf.tidy(() =>
        attention(tf.tensor4d(qq), tf.tensor4d(kk), tf.tensor4d(vv), { bias: tf.tensor2d(bias) }),
      );
    const a = run(q, k, v);
    const b = run(mix(q, q2), mix(k, k2), mix(v, v2));
    const [da, db] = [await a.array(), await b.array()];
    tf.dispose([a, b]);
    for (let h = 0; h < H; h++) {
      expect(maxAbsDiff(flat(da[0]![h]!.slice(0, cut)), flat(db[0]![h]!.slice(0, cut)))).toBe(0);
      expect(maxAbsDiff(flat(da[0]![h]!.slice(cut)), flat(db[0]![h]!.slice(cut)))).toBeGreaterThan(
        1e-3,
      );
    }
  });

  it('decoding row by row with queryOffset equals the full computation', async () => {
    const [B, H, Hkv, T, d] = [2, 4, 2, 5, 4];
    const q = tf.tensor4d(randn([B, H, T, d], 61));
    const k = tf.tensor4d(randn([B, Hkv, T, d], 62));
    const v = tf.tensor4d(randn([B, Hkv, T, d], 63));
    const bias = tf.tensor2d(randn<number[][]>([B, T], 64));
    const keyMask = tf.tensor2d([
      [0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    const full = tf.tidy(() =>
      attention(q, k, v, { bias, keyMask, queries: { start: 2, end: 5 } }),
    );
    const rows = tf.tidy(() => {
      const outs: tf.Tensor[] = [];
      for (let t = 0; t < T; t++) {
        // cache holds keys 0..t, query is row t (queryOffset defaults to Tk - Tq = t)
        const kt = tf.slice(k, [0, 0, 0, 0], [B, Hkv, t + 1, d]) as tf.Tensor4D;
        const vt = tf.slice(v, [0, 0, 0, 0], [B, Hkv, t + 1, d]) as tf.Tensor4D;
        const qt = tf.slice(q, [0, 0, t, 0], [B, H, 1, d]) as tf.Tensor4D;
        const bt = tf.slice(bias, [0, 0], [B, t + 1]) as tf.Tensor2D;
        const mt = tf.slice(keyMask, [0, 0], [B, t + 1]) as tf.Tensor2D;
        outs.push(attention(qt, kt, vt, { bias: bt, keyMask: mt, queries: { start: 2, end: 5 } }));
      }
      return tf.concat(outs, 2);
    });
    const [df, dr] = [await full.data(), await rows.data()];
    tf.dispose([q, k, v, bias, keyMask, full, rows]);
    expect(maxAbsDiff(df, dr)).toBeLessThan(1e-6);
  });

  it('a row with no visible key outputs zeros and has zero, finite gradients', async () => {
    const [B, H, T, d] = [1, 1, 3, 2];
    const q = tf.tensor4d(randn([B, H, T, d], 71));
    const k = tf.tensor4d(randn([B, 1, T, d], 72));
    const v = tf.tensor4d(randn([B, 1, T, d], 73));
    const bias = tf.tensor2d([[NEG, 0, 0]]); // row 0 sees only key 0, which is removed
    const out = tf.tidy(() => attention(q, k, v, { bias }));
    const [gq, gb] = tf.grads((qq: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(attention(qq as tf.Tensor4D, k, v, { bias: bb as tf.Tensor2D })),
    )([q, bias]);
    const o = (await out.array()) as number[][][][];
    const gqa = (await gq!.array()) as number[][][][];
    const gba = await gb!.data();
    tf.dispose([q, k, v, bias, out, gq!, gb!]);
    expect(o[0]![0]![0]).toEqual([0, 0]);
    expect(flat(o).every(Number.isFinite)).toBe(true);
    expect(gqa[0]![0]![0]).toEqual([0, 0]);
    expect([...gba].every(Number.isFinite)).toBe(true);
    expect(gba[0]).toBe(0);
  });

  it('does not leak tensors in forward or backward', () => {
    const c = cases[6]!;
    const { q, k, v } = toTensors(c, 81);
    const opts = tfOptions({
      ...c.opts,
      suppress: [
        [1, 0.1, 1, 1],
        [1, 1, 0.1, 1],
      ],
    });
    const [qt, kt, vt] = [tf.tensor4d(q), tf.tensor4d(k), tf.tensor4d(v)];
    const before = tf.memory().numTensors;
    const out = attention(qt, kt, vt, opts);
    out.dispose();
    const { bias, ...rest } = opts;
    const grads = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        attention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, {
          ...rest,
          bias: bb as tf.Tensor2D,
        }),
      ),
    )([qt, kt, vt, bias!]);
    expect(grads).toHaveLength(4);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([qt, kt, vt]);
    disposeOptions(opts);
  });
});

describe('attention argument checks', () => {
  const q = tf.zeros([2, 4, 3, 8]) as tf.Tensor4D;
  const k = tf.zeros([2, 2, 9, 8]) as tf.Tensor4D;
  const v = tf.zeros([2, 2, 9, 8]) as tf.Tensor4D;
  const expectError = (f: () => unknown, code: string, message: string) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(AttentionMaskError);
      expect((e as AttentionMaskError).code).toBe(code);
      expect((e as Error).message).toBe(message);
      return;
    }
    throw new Error('expected an AttentionMaskError');
  };
  it('names the argument and the expected shape', () => {
    const bias = tf.zeros([2, 7]) as tf.Tensor2D;
    expectError(
      () => attention(q, k, v, { bias }),
      'SHAPE_MISMATCH',
      'bias has shape [2,7], expected [B,Tk] = [2,9]',
    );
    expectError(
      () => attention(q, tf.zeros([2, 3, 9, 8]) as tf.Tensor4D, v),
      'SHAPE_MISMATCH',
      'q has H = 4 heads and k has Hkv = 3; H must be a multiple of Hkv (grouped-query attention)',
    );
    expectError(
      () => attention(q, k, tf.zeros([2, 2, 8, 8]) as tf.Tensor4D),
      'SHAPE_MISMATCH',
      'v has shape [2,2,8,8], expected [B,Hkv,Tk,dv] = [2,2,9,8]',
    );
    expectError(
      () =>
        attention(q, k, v, {
          queries: tf.zeros([2, 9]) as tf.Tensor2D,
          bias: tf.zeros([2, 9]) as tf.Tensor2D,
        }),
      'SHAPE_MISMATCH',
      'queries has shape [2,9], expected [B,Tq] = [2,3]',
    );
    expectError(
      () => attention(q, k, v, { queryOffset: 7 }),
      'INVALID_ARGUMENT',
      'queryOffset is 7, expected an integer in [0, 6]',
    );
  });
});
