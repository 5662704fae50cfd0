import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomItems, setUpBackend, tinyModel } from '../test/helpers.js';
import { gradientXInputSaliency } from './gradient.js';
import type { SaliencyItem } from './types.js';

let model: LlamaModel;
beforeAll(async () => {
  await setUpBackend();
  model = tinyModel(9);
});
afterAll(() => model.dispose());

/** Mean gold log-prob with CoT token j's embedding scaled by (1 + h) (full sequence, unbatched). */
async function goldLogProb(item: SaliencyItem, j: number, h: number): Promise<number> {
  const ids = [...item.promptIds, ...item.cotIds, ...item.delimiterIds, ...item.goldAnswerIds];
  const t = ids.length;
  const lp = tf.tidy(() => {
    const e = model.embed(tf.tensor2d([ids], [1, t], 'int32')); // [1,T,D]
    const scale = new Float32Array(t).fill(1);
    scale[item.promptIds.length + j] = 1 + h;
    const scaled = tf.mul(e, tf.tensor3d(scale, [1, t, 1])) as tf.Tensor3D;
    return tf.logSoftmax(model.forward(null, { inputEmbeds: scaled }));
  });
  const v = (await lp.array()) as number[][][];
  lp.dispose();
  const a0 = t - item.goldAnswerIds.length;
  return (
    item.goldAnswerIds.reduce((s, id, k) => s + v[0]![a0 + k - 1]![id]!, 0) /
    item.goldAnswerIds.length
  );
}

describe('gradientXInputSaliency', () => {
  it('equals the directional derivative d/dh log p(gold | e_j·(1+h)) at h = 0 (finite differences), batched', async () => {
    const items = randomItems(
      [
        [3, 4, 1, 2],
        [5, 2, 0, 1],
      ],
      4,
    );
    const before = tf.memory().numTensors;
    const maps = await gradientXInputSaliency(model, items);
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-2;
    for (let i = 0; i < items.length; i++) {
      for (let j = 0; j < items[i]!.cotIds.length; j++) {
        const fd =
          ((await goldLogProb(items[i]!, j, h)) - (await goldLogProb(items[i]!, j, -h))) / (2 * h);
        expect(Math.abs(maps[i]!.relevance[j]! - fd)).toBeLessThan(2e-3 + 0.03 * Math.abs(fd));
      }
      expect(maps[i]!.relevance).toHaveLength(items[i]!.cotIds.length);
    }
    expect(Math.max(...maps.flatMap((m) => m.relevance.map(Math.abs)))).toBeGreaterThan(1e-2);
  });
});
