import { join } from 'node:path';
import { type LlamaModel, loadModel } from '@atmanrl/model/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyItems } from '../test/copy-task.js';
import { setUpBackend } from '../test/helpers.js';
import { SaliencyError } from './errors.js';
import { fitSaliencyMasks } from './fit.js';
import { FIT_PRESETS, fitPreset } from './fit-presets.js';
import { spearman } from './spearman.js';

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

describe('FIT_PRESETS', () => {
  it('paper = method.md §2 (200 AdamW steps, lr 1e-3, betas 0.6/0.9999, wd 0.05, eps 1e-8)', () => {
    expect(FIT_PRESETS.paper).toEqual({
      steps: 200,
      lr: 1e-3,
      betas: [0.6, 0.9999],
      weightDecay: 0.05,
      eps: 1e-8,
    });
  });

  it('fast keeps the paper total movement steps × lr = 0.2 in 7 steps, with β1 = 0', () => {
    expect(FIT_PRESETS.fast.steps).toBe(7);
    expect(FIT_PRESETS.fast.steps * FIT_PRESETS.fast.lr).toBeCloseTo(0.2, 12);
    expect(FIT_PRESETS.fast.betas).toEqual([0, FIT_PRESETS.paper.betas[1]]);
    expect(FIT_PRESETS.fast.weightDecay).toBe(FIT_PRESETS.paper.weightDecay);
    expect(FIT_PRESETS.fast.eps).toBe(FIT_PRESETS.paper.eps);
  });

  it('fitPreset returns a preset by name and names the known ones for an unknown name', () => {
    expect(fitPreset('fast')).toBe(FIT_PRESETS.fast);
    expect(() => fitPreset('quick')).toThrow(SaliencyError);
    expect(() => fitPreset('quick')).toThrow(
      /unknown preset "quick"; expected one of "paper", "fast"/,
    );
    expect(() => fitPreset('toString')).toThrow(/unknown preset/);
  });
});

describe('presets on the trained copy-task model', () => {
  let model: LlamaModel;
  const items = [...copyItems('cot', 8, 41), ...copyItems('prompt', 8, 42)];
  beforeAll(async () => {
    await setUpBackend();
    model = await loadModel(join(import.meta.dirname, '..', 'test', 'fixtures', 'copy-model'));
  });
  afterAll(() => model.dispose());

  it("the paper preset is fitSaliencyMasks' defaults (same θ after 3 steps)", async () => {
    const before = tf.memory().numTensors;
    const a = await fitSaliencyMasks(model, items.slice(0, 4), { ...FIT_PRESETS.paper, steps: 3 });
    const b = await fitSaliencyMasks(model, items.slice(0, 4), { steps: 3 });
    expect(a.map((f) => f.theta)).toEqual(b.map((f) => f.theta));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fast agrees with paper: median per-item relevance Spearman ≥ 0.9 and H across items ≥ 0.9', async () => {
    const paper = await fitSaliencyMasks(model, items, { ...FIT_PRESETS.paper });
    const fast = await fitSaliencyMasks(model, items, { ...FIT_PRESETS.fast });
    const rhos = fast.map((f, i) => spearman(f.relevance, paper[i]!.relevance));
    const hRho = spearman(
      fast.map((f) => f.h),
      paper.map((f) => f.h),
    );
    expect(median(rhos)).toBeGreaterThanOrEqual(0.9);
    expect(hRho).toBeGreaterThanOrEqual(0.9);
    // the bar discriminates: one large step (1 × 0.2, the same movement) does not reach it
    const one = await fitSaliencyMasks(model, items, { steps: 1, lr: 0.2 });
    const oneRhos = one.map((f, i) => spearman(f.relevance, paper[i]!.relevance));
    const oneH = spearman(
      one.map((f) => f.h),
      paper.map((f) => f.h),
    );
    expect(Math.min(median(oneRhos), oneH)).toBeLessThan(0.9);
    // the copied value token stays the most relevant CoT token wherever the paper fit says so
    const top = (r: number[]) => r.indexOf(Math.max(...r));
    for (let i = 0; i < 8; i++) {
      if (top(paper[i]!.relevance) === items[i]!.valueAt) {
        expect(top(fast[i]!.relevance)).toBe(items[i]!.valueAt);
      }
    }
  });
});
