import { createRng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { read, useCpuBackend } from '../test/helpers.js';
import { EOS, TARGET, tinyModel } from '../test/tiny.js';
import type { GrpoConfigInput } from './config.js';
import type { RewardSpec } from './rewards.js';
import { createOptimizer, grpoStep } from './step.js';

useCpuBackend();

/** Fraction of completion tokens equal to TARGET. */
const targetReward: RewardSpec<string> = {
  name: 'target',
  fn: async (_samples, completions) =>
    completions.map(
      (c) => c.tokenIds.filter((t) => t === TARGET).length / Math.max(1, c.tokenIds.length),
    ),
};
/** 1 when the completion ended with EOS. */
const endsReward: RewardSpec<string> = {
  name: 'ends',
  fn: async (_s, completions) => completions.map((c) => (c.truncated ? 0 : 1)),
};
const batch = {
  samples: ['a', 'b'],
  promptIds: [
    [1, 2],
    [4, 5, 6],
  ],
};
const base: GrpoConfigInput = {
  numGenerations: 4,
  maxCompletionLength: 4,
  learningRate: 0.02,
  eosTokenIds: [EOS],
};

describe('grpoStep', () => {
  it('returns TRL-named metrics and per-completion records; leaks no tensors across steps', async () => {
    const model = tinyModel(1);
    const optimizer = createOptimizer(model);
    const rng = createRng(1);
    const opts = {
      policy: model,
      optimizer,
      rewards: [targetReward, endsReward],
      rng,
      config: { ...base, gradientAccumulationSteps: 2 },
    };
    const before = tf.memory().numTensors;
    const { metrics, episodes: completions } = await grpoStep(opts, batch);
    expect(tf.memory().numTensors).toBe(before);
    await grpoStep(opts, batch);
    expect(tf.memory().numTensors).toBe(before);
    for (const name of [
      'reward',
      'reward_std',
      'rewards/target/mean',
      'rewards/target/std',
      'rewards/ends/mean',
      'rewards/ends/std',
      'frac_reward_zero_std',
      'entropy',
      'clip_ratio/low_mean',
      'clip_ratio/high_mean',
      'clip_ratio/region_mean',
      'completions/mean_length',
      'completions/min_length',
      'completions/max_length',
      'completions/mean_terminated_length',
      'completions/clipped_ratio',
      'grad_norm',
      'learning_rate',
      'loss',
      'time/generation',
      'time/reward',
      'time/update',
      'tokens_per_second',
    ]) {
      expect(Number.isFinite(metrics[name]), name).toBe(true);
    }
    expect(metrics['kl']).toBeUndefined(); // β = 0: TRL does not log kl
    expect(metrics['learning_rate']).toBe(0.02);
    expect(metrics['entropy']).toBeGreaterThan(0);
    expect(metrics['entropy']).toBeLessThanOrEqual(Math.log(8) + 1e-5);
    expect(completions).toHaveLength(8);
    const lengths = completions.map((c) => c.completionIds.length);
    expect(metrics['completions/max_length']).toBe(Math.max(...lengths));
    expect(metrics['completions/clipped_ratio']).toBeCloseTo(
      completions.filter((c) => c.truncated).length / 8,
      12,
    );
    // records: totals are the sum of both rewards; advantages centred per group
    for (const c of completions)
      expect(c.reward).toBeCloseTo(c.rewards['target']! + c.rewards['ends']!, 12);
    for (const g of [0, 1]) {
      const group = completions.filter((c) => c.promptIndex === g);
      expect(group.map((c) => c.completionIndex)).toEqual([0, 1, 2, 3]);
      expect(Math.abs(group.reduce((s, c) => s + c.advantage, 0))).toBeLessThan(1e-9);
    }
    expect(metrics['reward']).toBeCloseTo(completions.reduce((s, c) => s + c.reward, 0) / 8, 6);
    expect(optimizer.step).toBe(2);
    optimizer.dispose();
    model.dispose();
  });

  it('μ = 1, β = 0, equal lengths, lossType grpo: loss ≈ 0 while the gradient norm is not', async () => {
    const model = tinyModel(2);
    const optimizer = createOptimizer(model);
    const { metrics } = await grpoStep(
      // no EOS: every completion has exactly 4 tokens; ratio = 1 up to float noise
      {
        policy: model,
        optimizer,
        rewards: [targetReward],
        rng: createRng(3),
        config: { ...base, eosTokenIds: [], lossType: 'grpo' },
      },
      batch,
    );
    expect(metrics['frac_reward_zero_std']).toBeLessThan(1);
    expect(Math.abs(metrics['loss']!)).toBeLessThan(1e-5);
    expect(metrics['grad_norm']).toBeGreaterThan(1e-3);
    expect(metrics['clip_ratio/region_mean']).toBe(0);
    optimizer.dispose();
    model.dispose();
  });

  it('β > 0 with a frozen reference: kl is 0 on the first update and > 0 on the second (μ = 2)', async () => {
    const model = tinyModel(4);
    const reference = model.clone({ trainable: false });
    const optimizer = createOptimizer(model);
    const refBefore = await read(reference.trainableVariables[0] ?? reference.variables[0]!);
    const { metrics } = await grpoStep(
      {
        policy: model,
        reference,
        optimizer,
        rewards: [targetReward],
        rng: createRng(4),
        config: { ...base, beta: 0.04, numIterations: 2, learningRate: 0.05 },
      },
      batch,
    );
    // kl = mean over the 2 updates; the first is exactly 0, so kl > 0 comes from the second
    expect(metrics['kl']).toBeGreaterThan(0);
    expect(optimizer.step).toBe(2);
    expect(await read(reference.variables[0]!)).toEqual(refBefore); // reference stays frozen
    await expect(
      grpoStep(
        {
          policy: model,
          optimizer,
          rewards: [targetReward],
          rng: createRng(4),
          config: { ...base, beta: 0.04 },
        },
        batch,
      ),
    ).rejects.toThrow(/reference/);
    optimizer.dispose();
    model.dispose();
    reference.dispose();
  });

  it('maskTruncatedCompletions: an all-truncated batch contributes no gradient', async () => {
    const model = tinyModel(5);
    const optimizer = createOptimizer(model);
    const { metrics } = await grpoStep(
      {
        policy: model,
        optimizer,
        rewards: [targetReward],
        rng: createRng(5),
        config: { ...base, eosTokenIds: [], maskTruncatedCompletions: true },
      },
      batch,
    );
    expect(metrics['completions/clipped_ratio']).toBe(1);
    expect(metrics['grad_norm']).toBe(0);
    expect(metrics['loss']).toBe(0);
    optimizer.dispose();
    model.dispose();
  });

  it('resumes exactly from saved optimiser and rng state', async () => {
    const run = async (resume: boolean): Promise<number[]> => {
      const model = tinyModel(6);
      const cfg = { ...base, numIterations: 2, weightDecay: 0.01 };
      let optimizer = createOptimizer(model, cfg);
      let rng = createRng(9);
      await grpoStep(
        { policy: model, optimizer, rewards: [targetReward], rng, config: cfg },
        batch,
      );
      if (resume) {
        const state = await optimizer.getState();
        optimizer.dispose();
        optimizer = createOptimizer(model, cfg);
        optimizer.loadState(state);
        rng = createRng(rng.state());
      }
      await grpoStep(
        { policy: model, optimizer, rewards: [targetReward], rng, config: cfg },
        batch,
      );
      const out = (await Promise.all(model.trainableVariables.map((v) => read(v)))).flat();
      optimizer.dispose();
      model.dispose();
      return out;
    };
    const straight = await run(false);
    const resumed = await run(true);
    expect(resumed).toEqual(straight);
  });

  it('rejects inconsistent batches with actionable messages', async () => {
    const model = tinyModel(7);
    const optimizer = createOptimizer(model);
    const opts = {
      policy: model,
      optimizer,
      rewards: [targetReward],
      rng: createRng(1),
      config: { ...base, gradientAccumulationSteps: 3 },
    };
    await expect(grpoStep(opts, batch)).rejects.toThrow(/gradientAccumulationSteps = 3/);
    await expect(
      grpoStep({ ...opts, config: base }, { samples: ['a'], promptIds: [[1], [2]] }),
    ).rejects.toThrow(/1 samples and 2 prompts/);
    optimizer.dispose();
    model.dispose();
  });
});

describe('grpoStep with overlapRewards', () => {
  const config = { ...base, gradientAccumulationSteps: 2, numIterations: 2 };
  /** A step on fresh copies; the rewards log (call, sizes); call 1 waits 10 ms, later ones 60. */
  async function run(overlapRewards: boolean, events: string[]) {
    const before = tf.memory().numTensors;
    const model = tinyModel(3);
    const hidden = model.hiddenStates.bind(model);
    model.hiddenStates = ((...a: Parameters<typeof hidden>) => {
      events.push('forward');
      return hidden(...a);
    }) as typeof model.hiddenStates;
    const optimizer = createOptimizer(model, config);
    let calls = 0;
    const slow: RewardSpec<string> = {
      name: 'target',
      fn: async (samples, completions, ctx) => {
        const call = ++calls;
        events.push(`reward ${call} start (${completions.length}, G ${ctx.groupSize})`);
        await new Promise((r) => setTimeout(r, call === 1 ? 10 : 60));
        events.push(`reward ${call} end`);
        return targetReward.fn(samples, completions, ctx);
      },
    };
    const result = await grpoStep(
      {
        policy: model,
        optimizer,
        rewards: [slow, endsReward],
        rng: createRng(5),
        config,
        overlapRewards,
      },
      batch,
    );
    const weights = await Promise.all(model.trainableVariables.map((v) => v.data()));
    optimizer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    return { result, weights };
  }

  it('scores each micro-batch of whole groups and updates exactly as the whole batch does', async () => {
    const whole: string[] = [];
    const split: string[] = [];
    const a = await run(false, whole);
    const b = await run(true, split);
    // 2 prompts × G 4 in 2 micro-batches: one call per micro-batch (one group each), all started
    // at once in episode order
    expect(whole.filter((e) => e.startsWith('reward'))).toEqual([
      'reward 1 start (8, G 4)',
      'reward 1 end',
    ]);
    expect(split.filter((e) => e.startsWith('reward'))).toEqual([
      'reward 1 start (4, G 4)',
      'reward 2 start (4, G 4)',
      'reward 1 end',
      'reward 2 end',
    ]);
    expect(b.result.episodes.map((e) => [e.rewards, e.reward, e.advantage])).toEqual(
      a.result.episodes.map((e) => [e.rewards, e.reward, e.advantage]),
    );
    expect(b.weights).toEqual(a.weights); // bit for bit: the same ops in the same order
    const {
      'time/generation': _g,
      'time/reward': _r,
      'time/update': _u,
      ...rest
    } = a.result.metrics;
    for (const [k, v] of Object.entries(rest)) {
      if (k.startsWith('time/') || k === 'tokens_per_second') continue;
      expect(b.result.metrics[k], k).toBe(v);
    }
    // the advantages are not all zero (else the comparison would be vacuous)
    expect(a.result.episodes.some((e) => Math.abs(e.advantage) > 0.1)).toBe(true);
  });

  it("runs micro-batch 0's update passes while micro-batch 1 is being scored", async () => {
    const split: string[] = [];
    await run(true, split);
    // generation also runs forward passes: the update's are those after the first reward call
    const updateForward = (events: string[]) =>
      events.indexOf('forward', events.indexOf('reward 1 start (4, G 4)') + 1);
    expect(updateForward(split)).toBeGreaterThan(split.indexOf('reward 1 end'));
    expect(updateForward(split)).toBeLessThan(split.indexOf('reward 2 end'));
    const whole: string[] = [];
    await run(false, whole);
    const first = whole.indexOf('forward', whole.indexOf('reward 1 start (8, G 4)') + 1);
    expect(first).toBeGreaterThan(whole.indexOf('reward 1 end'));
  });

  it('a failing micro-batch reward fails the step, leaks nothing and leaves no call running', async () => {
    const model = tinyModel(3);
    const optimizer = createOptimizer(model, config);
    const ends: number[] = [];
    let calls = 0;
    const failing: RewardSpec<string> = {
      name: 'target',
      fn: async (_s, completions) => {
        const call = ++calls;
        await new Promise((r) => setTimeout(r, 10 * call));
        ends.push(call);
        if (call === 2) throw new Error('reward 2 failed');
        return completions.map(() => 0);
      },
    };
    const before = tf.memory().numTensors;
    await expect(
      grpoStep(
        {
          policy: model,
          optimizer,
          rewards: [failing],
          rng: createRng(5),
          config,
          overlapRewards: true,
        },
        batch,
      ),
    ).rejects.toThrow('reward 2 failed');
    expect(ends).toEqual([1, 2]);
    expect(optimizer.step).toBe(0); // no update applied
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    model.dispose();
  });

  it('scores the whole batch when the advantages are not per group (scaleRewards batch)', async () => {
    const model = tinyModel(3);
    const optimizer = createOptimizer(model, config);
    const sizes: number[] = [];
    const spec: RewardSpec<string> = {
      name: 'target',
      fn: async (s, completions, ctx) => {
        sizes.push(completions.length);
        return targetReward.fn(s, completions, ctx);
      },
    };
    await grpoStep(
      {
        policy: model,
        optimizer,
        rewards: [spec],
        rng: createRng(5),
        config: { ...config, scaleRewards: 'batch' },
        overlapRewards: true,
      },
      batch,
    );
    expect(sizes).toEqual([8]);
    optimizer.dispose();
    model.dispose();
  });
});
