import { createRng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { read, useCpuBackend } from '../test/helpers.js';
import { EOS, TARGET, tinyModel } from '../test/tiny.js';
import { resolveGrpoConfig } from './config.js';
import { GrpoError } from './errors.js';
import type { RewardSpec } from './rewards.js';
import { createOptimizer, grpoStep } from './step.js';
import { type UpdateEpisode, updateLearningRate, updatePolicy } from './update.js';

useCpuBackend();

const episodes = (advantage: number): UpdateEpisode[] => [
  { promptIds: [1, 2], completionIds: [3, 4, EOS], oldLogProbs: null, advantage, truncated: false },
  {
    promptIds: [1, 5],
    completionIds: [6, EOS],
    oldLogProbs: null,
    advantage: -1,
    truncated: false,
  },
];

const weights = async (vars: readonly tf.Variable[]): Promise<number[]> =>
  (await Promise.all(vars.map((v) => read(v)))).flat();

describe('updatePolicy', () => {
  it('applies μ updates and returns one named record per (iteration, micro-batch)', async () => {
    const model = tinyModel(3);
    const optimizer = createOptimizer(model);
    const cfg = resolveGrpoConfig({ numIterations: 2, gradientAccumulationSteps: 2 });
    const w0 = await weights(optimizer.variables as tf.Variable[]);
    const before = tf.memory().numTensors;
    const stats = await updatePolicy({ policy: model, optimizer }, episodes(1), cfg);
    expect(tf.memory().numTensors).toBe(before);
    expect(stats.microBatches.map((m) => m.iteration)).toEqual([0, 0, 1, 1]);
    expect(stats.microBatches.map((m) => m.activeTokens)).toEqual([3, 2, 3, 2]);
    expect(stats.gradNorms).toHaveLength(2);
    expect(optimizer.step).toBe(2);
    expect(await weights(optimizer.variables as tf.Variable[])).not.toEqual(w0);
    optimizer.dispose();
    model.dispose();
  });

  it('refuses a non-finite update without applying it and without leaking', async () => {
    const model = tinyModel(3);
    const optimizer = createOptimizer(model);
    const cfg = resolveGrpoConfig({});
    const w0 = await weights(optimizer.variables as tf.Variable[]);
    const before = tf.memory().numTensors;
    const err = await updatePolicy({ policy: model, optimizer }, episodes(Number.NaN), cfg).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GrpoError);
    expect((err as GrpoError).code).toBe('NON_FINITE');
    expect((err as Error).message).toMatch(
      /update 1 of 1: the gradient norm is NaN \(not finite\); the update was not applied/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(optimizer.step).toBe(0);
    expect(await weights(optimizer.variables as tf.Variable[])).toEqual(w0);
    optimizer.dispose();
    model.dispose();
  });

  it('rejects episodes that do not split into equal micro-batches', async () => {
    const model = tinyModel(3);
    const optimizer = createOptimizer(model);
    await expect(
      updatePolicy(
        { policy: model, optimizer },
        episodes(1),
        resolveGrpoConfig({ gradientAccumulationSteps: 3 }),
      ),
    ).rejects.toThrow(/gradientAccumulationSteps = 3/);
    optimizer.dispose();
    model.dispose();
  });
});

describe('the learning-rate schedule counts optimiser updates', () => {
  it('linear decay over maxSteps · μ updates (hand-computed)', () => {
    const cfg = resolveGrpoConfig({
      learningRate: 1,
      lrSchedulerType: 'linear',
      maxSteps: 2,
      numIterations: 2,
      warmupSteps: 1,
    });
    // 4 updates, 1 of warm-up: 0, then (4-1)/3, (4-2)/3, (4-3)/3
    expect([0, 1, 2, 3].map((u) => updateLearningRate(u, cfg))).toEqual([0, 1, 2 / 3, 1 / 3]);
  });

  it('grpoStep with μ = 2 reaches the last update of the run with a non-zero rate', async () => {
    const model = tinyModel(1);
    const optimizer = createOptimizer(model);
    const reward: RewardSpec<string> = {
      name: 'target',
      fn: async (_s, cs) => cs.map((c) => c.tokenIds.filter((t) => t === TARGET).length),
    };
    const opts = {
      policy: model,
      optimizer,
      rewards: [reward],
      rng: createRng(1),
      config: {
        numGenerations: 4,
        maxCompletionLength: 3,
        learningRate: 0.01,
        lrSchedulerType: 'linear' as const,
        maxSteps: 2,
        numIterations: 2,
        eosTokenIds: [EOS],
      },
    };
    const batch = { samples: ['a'], promptIds: [[1, 2]] };
    const lrs: number[] = [];
    for (let i = 0; i < 2; i++) lrs.push(...(await grpoStep(opts, batch)).update.learningRates);
    // Counted in GRPO steps (the old bug) the rate would hit 0 after the first step.
    [0.01, 0.0075, 0.005, 0.0025].forEach((lr, i) => {
      expect(lrs[i]).toBeCloseTo(lr, 12);
    });
    optimizer.dispose();
    model.dispose();
  });
});
