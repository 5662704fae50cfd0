// adamWStep against torch.optim.AdamW trajectories (float64 fixture) and hand-computed steps.
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
  it('matches hand-computed steps: decoupled decay, bias correction, eps, betas', async () => {
    const before = tf.memory().numTensors;
    const config = { lr: 0.1, betas: [0.5, 0.75] as const, weightDecay: 0.2, eps: 0.01 };
    let param = tf.tensor1d([2]);
    let state = initAdamW(param);
    const trajectory: number[] = [];
    for (const g of [0.4, -0.2]) {
      const step = state.step;
      const [p, m, v] = tf.tidy(() => {
        const r = adamWStep(param, tf.tensor1d([g]), state, config);
        return [r.param, r.state.m, r.state.v];
      });
      tf.dispose([param, state.m, state.v]);
      param = p as tf.Tensor1D;
      state = { m: m!, v: v!, step: step + 1 };
      trajectory.push((await param.data())[0]!);
    }
    // t=1: θ = 2·(1 − 0.1·0.2) = 1.96; m = 0.5·0.4 = 0.2, v = 0.25·0.16 = 0.04;
    //      m̂ = 0.2/0.5 = 0.4, v̂ = 0.04/0.25 = 0.16; θ = 1.96 − 0.1·0.4/(0.4 + 0.01) = 1.862439024
    // t=2: θ = 1.862439024·0.98 = 1.825190244; m = 0.1 − 0.1 = 0, so the Adam step is 0
    expect(trajectory[0]).toBeCloseTo(1.96 - 0.04 / 0.41, 6);
    expect(trajectory[1]).toBeCloseTo((1.96 - 0.04 / 0.41) * 0.98, 6);
    // v = 0.75·0.04 + 0.25·0.04 = 0.04 after step 2
    expect((await state.v.data())[0]).toBeCloseTo(0.04, 7);
    expect(state.step).toBe(2);
    tf.dispose([param, state.m, state.v]);
    expect(tf.memory().numTensors).toBe(before);
  });

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
