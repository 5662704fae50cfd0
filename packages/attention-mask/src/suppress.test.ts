import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionMaskError } from './errors.js';
import { initBackend } from './node/backend.js';
import { suppressionFactors } from './suppress.js';

describe('suppressionFactors', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });
  it('puts 1 - f on suppressed keys and 1 elsewhere', async () => {
    const t = suppressionFactors([[1, 3], []], 4);
    expect(t.shape).toEqual([2, 4]);
    const v = await t.data();
    t.dispose();
    expect([...v].map((x) => Math.round(x * 1e6) / 1e6)).toEqual([1, 0.1, 1, 0.1, 1, 1, 1, 1]);
  });
  it('honours strength and rejects bad positions', async () => {
    const before = tf.memory().numTensors;
    const t = suppressionFactors([[0]], 2, { strength: 0.25 });
    expect([...(await t.data())]).toEqual([0.75, 1]);
    t.dispose();
    expect(() => suppressionFactors([[2]], 2)).toThrow(AttentionMaskError);
    expect(() => suppressionFactors([[0]], 2, { strength: 2 })).toThrow(
      'strength is 2, expected a number in [0, 1]',
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
