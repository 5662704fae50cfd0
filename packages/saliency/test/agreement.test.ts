// Agreement of the AtManRL mask with AtMan's one-token sweep on a TRAINED tiny model (the
// copy-task fixture, see copy-task.ts / gen-copy-model.test.ts). Values measured on wasm
// (README): paper defaults mean ρ = 0.45 over CoT-reliant items, pooled ρ = 0.42, top-1 4/8;
// with eps = 1e-4, top-1 8/8. Occlusion vs AtMan for scale: mean ρ = 0.94.
import { join } from 'node:path';
import { type LlamaModel, loadModel } from '@atmanrl/model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitSaliencyMasks } from '../src/fit.js';
import { spearman } from '../src/spearman.js';
import { atmanSaliency } from '../src/sweep.js';
import type { SaliencyMap } from '../src/types.js';
import { copyItems } from './copy-task.js';
import { setUpBackend } from './helpers.js';

let model: LlamaModel;
const items = [...copyItems('cot', 8, 31), ...copyItems('prompt', 8, 32)];
let atman: SaliencyMap[];
beforeAll(async () => {
  await setUpBackend();
  model = await loadModel(join(import.meta.dirname, 'fixtures', 'copy-model'));
  atman = await atmanSaliency(model, items);
});
afterAll(() => model.dispose());

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const top1 = (maps: SaliencyMap[]) =>
  maps
    .slice(0, 8)
    .filter((m, i) => m.relevance.indexOf(Math.max(...m.relevance)) === items[i]!.valueAt).length;

describe('agreement with AtMan on a trained tiny model', () => {
  it('AtMan itself finds the copied token in every CoT-reliant item', () => {
    expect(top1(atman)).toBe(8);
  });

  it('paper defaults: mean Spearman ρ over CoT-reliant items > 0.3', async () => {
    const fit = await fitSaliencyMasks(model, items);
    const rho = fit.map((m, i) => spearman(m.relevance, atman[i]!.relevance));
    const pooled = spearman(
      fit.flatMap((m) => m.relevance),
      atman.flatMap((m) => m.relevance),
    );
    console.info(
      `fit vs AtMan (paper defaults): mean rho ${mean(rho.slice(0, 8)).toFixed(3)}, pooled ${pooled.toFixed(3)}, top-1 ${top1(fit)}/8`,
    );
    expect(mean(rho.slice(0, 8))).toBeGreaterThan(0.3);
    expect(pooled).toBeGreaterThan(0.3);
  });

  it('eps = 1e-4 (Adam no longer amplifies ~1e-6 gradients): top-1 agreement on at least 7 of 8 items', async () => {
    const fit = await fitSaliencyMasks(model, items, { eps: 1e-4 });
    console.info(`fit vs AtMan (eps 1e-4): top-1 ${top1(fit)}/8`);
    expect(top1(fit)).toBeGreaterThanOrEqual(7);
  });
});
