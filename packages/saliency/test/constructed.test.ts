// The truth is known: in handCopyModel the gold answer copies the single value token. In 'cot'
// items that token is in the CoT; in 'prompt' items it is in the prompt and the CoT is irrelevant.

import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitSaliencyMasks } from '../src/fit.js';
import { gradientXInputSaliency } from '../src/gradient.js';
import { saliencyReward } from '../src/reward.js';
import { atmanSaliency, occlusionSaliency } from '../src/sweep.js';
import type { MaskFitResult, SaliencyMap } from '../src/types.js';
import { copyItems } from './copy-task.js';
import { handCopyModel } from './hand-model.js';
import { setUpBackend } from './helpers.js';

let model: LlamaModel;
const cotItems = copyItems('cot', 4, 7);
const promptItems = copyItems('prompt', 3, 8);
let fit: MaskFitResult[];
beforeAll(async () => {
  await setUpBackend();
  model = handCopyModel();
  fit = await fitSaliencyMasks(model, [...cotItems, ...promptItems]); // paper defaults, 200 steps
});
afterAll(() => model.dispose());

function expectTopByMargin(map: SaliencyMap, at: number, margin: number): void {
  const top = map.relevance[at]!;
  const others = map.relevance.filter((_, j) => j !== at);
  expect(top - Math.max(...others)).toBeGreaterThan(margin);
}

describe('fit on a model whose answer copies one CoT token', () => {
  it('gives the copied token the highest relevance by a margin', () => {
    cotItems.forEach((item, i) => {
      expectTopByMargin(fit[i]!, item.valueAt, 0.2);
    });
  });
  it('lowers the gold CE during the fit', () => {
    cotItems.forEach((_, i) => {
      const r = fit[i]!;
      expect(r.ceInitial).toBeGreaterThan(r.ceNoBias + 0.1); // suppression hurts at the start
      expect(r.ceFinal).toBeLessThan(0.5 * r.ceInitial);
      expect(r.losses[199]!).toBeLessThan(r.losses[0]!);
      expect(r.losses[0]).toBeCloseTo(r.ceInitial, 5);
    });
  });
  it('leaves the CoT near 0 and the reliance reward low when the prompt alone gives the answer', () => {
    promptItems.forEach((_, k) => {
      const r = fit[cotItems.length + k]!;
      for (const x of r.relevance) expect(Math.abs(x)).toBeLessThan(0.02); // only weight decay moves θ
      expect(saliencyReward(r.h)).toBeLessThan(0.02);
      expect(saliencyReward(r.h, { direction: 'paper-literal' })).toBeGreaterThan(0.98);
      expect(r.ceFinal).toBeCloseTo(r.ceNoBias, 4);
    });
    const relianceCot = saliencyReward(fit[0]!.h);
    expect(relianceCot).toBeGreaterThan(saliencyReward(fit[cotItems.length]!.h));
  });
});

describe('baselines on the same model', () => {
  it('AtMan, occlusion and gradient x input also single out the copied token', async () => {
    const maps = [
      ...(await atmanSaliency(model, cotItems)),
      ...(await occlusionSaliency(model, cotItems)),
      ...(await gradientXInputSaliency(model, cotItems)),
    ];
    // gradient x input is tiny here (p(gold) ~ 0.98 saturates the softmax) but still ranks first
    maps.forEach((m, i) => {
      expectTopByMargin(m, cotItems[i % cotItems.length]!.valueAt, i < 8 ? 1e-3 : 1e-6);
    });
    const atman = maps.slice(0, 4);
    atman.forEach((m) => {
      expect(Math.max(...m.relevance)).toBeGreaterThan(1);
    }); // nats
  });
  it('AtMan finds no CoT reliance in prompt-only items', async () => {
    const before = tf.memory().numTensors;
    const maps = await atmanSaliency(model, promptItems, { chunkSize: 3 });
    for (const m of maps) for (const x of m.relevance) expect(Math.abs(x)).toBeLessThan(1e-3);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('distractor CoT tokens (documents the paper defaults)', () => {
  it('AdamW moves θ by ~lr per step whatever the gradient size: attended-but-irrelevant tokens are pushed down', async () => {
    const distract = handCopyModel({ ignoredScore: 0 }); // fillers now take attention from the value key
    const items = [...cotItems.slice(0, 2), ...promptItems.slice(0, 2)];
    const res = await fitSaliencyMasks(distract, items);
    const atman = await atmanSaliency(distract, items);
    res.forEach((r, i) => {
      const valueAt = items[i]!.valueAt;
      r.relevance.forEach((x, j) => {
        if (j === valueAt) return;
        expect(x).toBeLessThan(-0.2); // pushed down by ~0.1-0.2 in θ ...
        expect(Math.abs(atman[i]!.relevance[j]!)).toBeLessThan(0.05); // ... although AtMan sees ~no effect
      });
      expect(saliencyReward(r.h)).toBeLessThan(0); // reliance can go negative
    });
    console.info(
      `distractor fillers: reliance rewards ${res.map((r) => saliencyReward(r.h).toFixed(3)).join(', ')}`,
    );
    distract.dispose();
  });
});
