import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setUpBackend } from '../test/helpers.js';
import { adamWStep, initAdamW } from './adamw.js';

interface Fixture {
  theta0: number[][];
  grads: number[][][];
  cases: { lr: number; betas: [number, number]; weightDecay: number; trajectory: number[][][] }[];
}
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '../test/fixtures/adamw.json'), 'utf8'),
) as Fixture;

beforeAll(setUpBackend);

describe('adamWStep', () => {
  it('matches torch.optim.AdamW (float64 fixture) step by step', async () => {
    for (const c of fixture.cases) {
      let param = tf.tensor2d(fixture.theta0);
      let state = initAdamW(param);
      for (let s = 0; s < fixture.grads.length; s++) {
        const g = tf.tensor2d(fixture.grads[s]!);
        const next = adamWStep(param, g, state, c);
        g.dispose();
        param.dispose();
        state.m.dispose();
        state.v.dispose();
        param = next.param as tf.Tensor2D;
        state = next.state;
        const got = (await param.array()) as number[][];
        got.flat().forEach((x, i) => {
          expect(x).toBeCloseTo(c.trajectory[s]!.flat()[i]!, 5);
        });
      }
      expect(state.step).toBe(fixture.grads.length);
      param.dispose();
      state.m.dispose();
      state.v.dispose();
    }
  });

  it('leaves inactive entries (θ, m, v) untouched', async () => {
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const p = tf.tensor1d([-0.4, -0.4]);
      const st = initAdamW(p);
      const r = adamWStep(
        p,
        tf.tensor1d([1, 1]),
        st,
        { lr: 0.1, betas: [0.9, 0.999], weightDecay: 0.5 },
        tf.tensor1d([1, 0]),
      );
      return [r.param, r.state.m];
    });
    const [p, m] = await Promise.all(out.map((t) => t.data()));
    expect(p![1]).toBeCloseTo(-0.4, 7);
    expect(m![1]).toBe(0);
    expect(p![0]).not.toBeCloseTo(-0.4, 2);
    tf.dispose(out);
    expect(tf.memory().numTensors).toBe(before);
  });
});
