// Fused heads + RoPE on webgpu (lavapipe here and on CI) against the unfused path
// (reshape, transpose, applyRope) on the same backend: values, the gradient for the projection
// output, dispatch counts and no leaks. Skipped with the reason when Dawn offers no adapter
// (failing on CI with ATMANRL_REQUIRE_WEBGPU=1).

import { countWebgpuDispatches } from '@atmanrl/attention-mask';
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webgpuSuite } from '../../test/helpers.js';
import { applyRope, ropeTables } from '../rope.js';
import { fusedRopeHeads } from './fused-rope.js';

const { run, label } = await webgpuSuite();

const [B, T, N, HD] = [2, 5, 3, 8];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}

describe.skipIf(!run)(`fused heads + RoPE ${label}`, () => {
  beforeAll(async () => {
    expect((await initBackend({ prefer: 'webgpu' })).name).toBe('webgpu');
  });
  afterAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('matches reshape + transpose + applyRope in values and gradient, in 1 + 1 dispatches', async () => {
    const p = tf.randomNormal([B * T, N * HD], 0, 1, 'float32', 3) as tf.Tensor2D;
    const c = tf.randomNormal([B, N, T, HD], 0, 1, 'float32', 4);
    const positions = tf.tensor2d(
      [
        [0, 1, 2, 3, 4],
        [0, 0, 5, 9, 20],
      ],
      undefined,
      'int32',
    );
    const inv = tf.tensor1d(Array.from({ length: HD / 2 }, (_, i) => 10000 ** (-i / (HD / 2))));
    const { cos, sin } = ropeTables(positions, inv);
    const unfused = (x: tf.Tensor) =>
      applyRope(tf.transpose(tf.reshape(x, [B, T, N, HD]), [0, 2, 1, 3]) as tf.Tensor4D, cos, sin);
    const fused = (x: tf.Tensor) => fusedRopeHeads(x, cos, sin, N);
    const before = tf.memory().numTensors;
    const run = (f: (x: tf.Tensor) => tf.Tensor) => [
      tf.tidy(() => f(p)),
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), c)))(p),
    ];
    const read = async (ts: tf.Tensor[]) => {
      const v = (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
      tf.dispose(ts);
      return v;
    };
    const [yF, gF] = await read(run(fused));
    const [yU, gU] = await read(run(unfused));
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(yF!, yU!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(gF!, gU!)).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(gF!, Math.abs))).toBeGreaterThan(0.1); // can fail
    const forward = await countWebgpuDispatches(() => read([tf.tidy(() => fused(p))]));
    expect(forward.dispatches).toBe(1);
    const both = await countWebgpuDispatches(() =>
      read([tf.grad((x: tf.Tensor) => tf.sum(fused(x)))(p)]),
    );
    expect(both.dispatches).toBeLessThanOrEqual(3); // forward, [ones for dy], backward
    tf.dispose([p, c, positions, inv, cos, sin]);
  });
});
