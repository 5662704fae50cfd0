import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomItems, setUpBackend, tinyModel } from '../test/helpers.js';
import { SaliencyError } from './errors.js';
import { atmanSaliency, occlusionSaliency } from './sweep.js';
import type { SaliencyItem } from './types.js';

let model: LlamaModel;
beforeAll(async () => {
  await setUpBackend();
  model = tinyModel(5);
});
afterAll(() => model.dispose());

const ITEMS = randomItems(
  [
    [4, 5, 1, 2],
    [1, 3, 0, 1],
  ],
  21,
);

/** Independent reference: full-sequence forward, CE computed here by hand. */
async function referenceCe(
  item: SaliencyItem,
  perturb: 'none' | { suppress: number } | { occlude: number },
): Promise<number> {
  const ids = [...item.promptIds, ...item.cotIds, ...item.delimiterIds, ...item.goldAnswerIds];
  const t = ids.length;
  const logits = tf.tidy(() => {
    const cols = new Float32Array(t);
    const options: Record<string, tf.Tensor2D> = {};
    if (perturb !== 'none' && 'suppress' in perturb) {
      cols.fill(1);
      cols[item.promptIds.length + perturb.suppress] = 0.1;
      options['suppress'] = tf.tensor2d(cols, [1, t]);
    } else if (perturb !== 'none') {
      cols[item.promptIds.length + perturb.occlude] = Number.NEGATIVE_INFINITY;
      options['attentionBias'] = tf.tensor2d(cols, [1, t]);
    }
    return tf.logSoftmax(model.forward(tf.tensor2d([ids], [1, t], 'int32'), options));
  });
  const lp = (await logits.array()) as number[][][];
  logits.dispose();
  const a0 = t - item.goldAnswerIds.length;
  const nll = item.goldAnswerIds.map((id, k) => -lp[0]![a0 + k - 1]![id]!);
  return nll.reduce((s, x) => s + x, 0) / nll.length;
}

describe('atmanSaliency / occlusionSaliency', () => {
  it('equal an independent full-sequence reference (suppression f = 0.9, -Infinity bias)', async () => {
    const atman = await atmanSaliency(model, ITEMS, { chunkSize: 4 });
    const occl = await occlusionSaliency(model, ITEMS, { chunkSize: 4 });
    for (let i = 0; i < ITEMS.length; i++) {
      const item = ITEMS[i]!;
      const base = await referenceCe(item, 'none');
      expect(atman[i]!.ceNoBias).toBeCloseTo(base, 5);
      expect(occl[i]!.ceNoBias).toBeCloseTo(base, 5);
      for (let j = 0; j < item.cotIds.length; j++) {
        expect(atman[i]!.relevance[j]).toBeCloseTo(
          (await referenceCe(item, { suppress: j })) - base,
          5,
        );
        expect(occl[i]!.relevance[j]).toBeCloseTo(
          (await referenceCe(item, { occlude: j })) - base,
          5,
        );
      }
      expect(Math.max(...atman[i]!.relevance.map(Math.abs))).toBeGreaterThan(1e-3); // non-trivial
    }
  });

  it('do not depend on chunk size or prefix reuse', async () => {
    const a = await atmanSaliency(model, ITEMS, { chunkSize: 16 });
    for (const opts of [{ chunkSize: 1 }, { chunkSize: 2, prefixReuse: false }]) {
      const b = await atmanSaliency(model, ITEMS, opts);
      a.forEach((m, i) => {
        m.relevance.forEach((x, j) => {
          expect(x).toBeCloseTo(b[i]!.relevance[j]!, 5);
        });
      });
    }
  });

  it('do not leak tensors and handle an empty CoT', async () => {
    const items = [
      ...ITEMS,
      { promptIds: [1, 2], cotIds: [], delimiterIds: [3], goldAnswerIds: [4] },
    ];
    const before = tf.memory().numTensors;
    const maps = [
      ...(await atmanSaliency(model, items, { chunkSize: 3 })),
      ...(await occlusionSaliency(model, items)),
    ];
    expect(tf.memory().numTensors).toBe(before);
    expect(maps[2]!.relevance).toEqual([]);
    expect(maps[0]!.method).toBe('atman');
    expect(maps[3]!.method).toBe('occlusion');
  });

  it('reject bad options and items with a coded error', async () => {
    await expect(atmanSaliency(model, ITEMS, { chunkSize: 0 })).rejects.toThrow(SaliencyError);
    await expect(atmanSaliency(model, ITEMS, { strength: 2 })).rejects.toThrow(/strength/);
    await expect(
      occlusionSaliency(model, [
        { promptIds: [], cotIds: [1], delimiterIds: [], goldAnswerIds: [1] },
      ]),
    ).rejects.toThrow(/promptIds is empty/);
  });
});
