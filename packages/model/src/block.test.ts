// The decoder block on its own: the residual law (zero output projections leave x unchanged), the
// keys and values it returns (cache included), and recomputation giving the same gradients.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CONFIG } from '../test/helpers.js';
import { type BlockInputs, block, recomputedBlock } from './block.js';
import { createRandomModel } from './checkpoint.js';
import { ropeInverseFrequencies, ropeTables } from './rope.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const model = createRandomModel(TINY_CONFIG, 5);
const cfg = model.config; // D = 32, H = 4, Hkv = 2, hd = 8
const w = model.weights.layers[0]!;
afterAll(() => model.dispose());

function inputs(b: number, t: number, past = 0): BlockInputs {
  const invFreq = tf.tensor1d(Float32Array.from(ropeInverseFrequencies(cfg)));
  const positions = tf.tile(tf.reshape(tf.range(past, past + t, 1, 'int32'), [1, t]), [b, 1]);
  const { cos, sin } = ropeTables(positions as tf.Tensor2D, invFreq);
  return { cos, sin, past };
}

describe('block', () => {
  it('is the identity when both output projections are zero (pre-norm residuals)', async () => {
    const before = tf.memory().numTensors;
    const [out, x, k, v] = tf.tidy(() => {
      const x = tf.randomNormal([2, 5, cfg.hidden_size], 0, 1, 'float32', 1);
      const zeroed = { ...w, o: tf.zerosLike(w.o), down: tf.zerosLike(w.down) };
      const o = block(x, zeroed, inputs(2, 5), cfg);
      return [o.x, x, o.k, o.v];
    });
    expect(await out!.data()).toEqual(await x!.data());
    expect(k!.shape).toEqual([2, cfg.num_key_value_heads, 5, cfg.head_dim]);
    expect(v!.shape).toEqual([2, cfg.num_key_value_heads, 5, cfg.head_dim]);
    tf.dispose([out!, x!, k!, v!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('attends over cached keys and values and returns them extended', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([1, 2, cfg.hidden_size], 0, 1, 'float32', 2);
      const pastK: tf.Tensor4D = tf.randomNormal(
        [1, cfg.num_key_value_heads, 3, cfg.head_dim],
        0,
        1,
        'float32',
        3,
      );
      const pastV: tf.Tensor4D = tf.randomNormal(
        [1, cfg.num_key_value_heads, 3, cfg.head_dim],
        0,
        1,
        'float32',
        4,
      );
      const o = block(x, w, { ...inputs(1, 2, 3), pastK, pastV }, cfg);
      expect(o.x.shape).toEqual([1, 2, cfg.hidden_size]);
      expect(o.k.shape).toEqual([1, cfg.num_key_value_heads, 5, cfg.head_dim]);
    });
  });

  it('recomputedBlock gives the same gradients (x and the bias)', async () => {
    const x = tf.randomNormal([2, 4, cfg.hidden_size], 0, 1, 'float32', 6);
    const bias = tf.tensor2d([
      [0, -1, 0.5, 0],
      [-0.3, 0, 0, 2],
    ]);
    const grads = (recompute: boolean) =>
      tf.grads((xx: tf.Tensor, bb: tf.Tensor) => {
        const c = { ...inputs(2, 4), bias: bb as tf.Tensor2D };
        const y = recompute ? recomputedBlock(xx, w, c, cfg) : block(xx, w, c, cfg).x;
        return tf.sum(tf.mul(y, y));
      })([x, bias]);
    const plain = await Promise.all(grads(false).map((g) => g.data()));
    const again = await Promise.all(grads(true).map((g) => g.data()));
    for (let i = 0; i < 2; i++) {
      const a = plain[i]!;
      const b = again[i]!;
      for (let j = 0; j < a.length; j++) expect(b[j]).toBeCloseTo(a[j]!, 5);
    }
    tf.dispose([x, bias]);
  });
});
