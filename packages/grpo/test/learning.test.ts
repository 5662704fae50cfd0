// End to end: a tiny random model learns, from reward alone, to emit a target token.
import { createRng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createOptimizer, grpoStep, type RewardSpec } from '../src/index.js';
import { useCpuBackend } from './helpers.js';
import { EOS, TARGET, tinyModel } from './tiny.js';

useCpuBackend();

/** Fraction of completion tokens equal to TARGET (1 / 8 for a uniform policy). */
const target: RewardSpec<null> = {
  name: 'target',
  fn: async (_s, completions) =>
    completions.map(
      (c) => c.tokenIds.filter((t) => t === TARGET).length / Math.max(1, c.tokenIds.length),
    ),
};

describe('GRPO learning (tiny model, fixed seed)', () => {
  it('raises the mean reward by a clear margin within 30 steps, without leaking tensors', async () => {
    const model = tinyModel(11);
    const config = {
      numGenerations: 8,
      maxCompletionLength: 4,
      learningRate: 0.03,
      numIterations: 2,
      gradientAccumulationSteps: 2,
      eosTokenIds: [EOS],
    };
    const optimizer = createOptimizer(model, config);
    const rng = createRng(2024);
    const batch = {
      samples: [null, null],
      promptIds: [
        [1, 2],
        [5, 4, 6],
      ],
    };
    const rewards: number[] = [];
    const before = tf.memory().numTensors;
    for (let step = 0; step < 30; step++) {
      const { metrics } = await grpoStep(
        { policy: model, optimizer, rewards: [target], rng, config },
        batch,
      );
      rewards.push(metrics['reward']!);
    }
    expect(tf.memory().numTensors).toBe(before);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(rewards.slice(0, 3)); // ≈ 1/8 at random init (0.17 with this seed)
    const last = mean(rewards.slice(-5)); // ≈ 1 with this seed
    expect(first).toBeLessThan(0.3);
    expect(last).toBeGreaterThan(first + 0.5);
    optimizer.dispose();
    model.dispose();
  });
});
