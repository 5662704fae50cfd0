// The token budget of the update (`maxTokensPerMicroBatch`): splitting a micro-batch into passes
// must leave the accumulated gradient and the micro-batch records as they are without a budget.
import { packByTokens } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, read, useCpuBackend } from '../test/helpers.js';
import { EOS, tinyModel } from '../test/tiny.js';
import { type GrpoConfigInput, resolveGrpoConfig } from './config.js';
import { GrpoError } from './errors.js';
import { AdamW } from './optimizer.js';
import { createOptimizer } from './step.js';
import { type UpdateEpisode, type UpdateStats, updatePolicy } from './update.js';

useCpuBackend();

/**
 * AdamW that also keeps a copy of every gradient it is given (then applies it as usual), so a
 * test can read the update's accumulated gradient. With `maxGradNorm: 0` that is the raw sum.
 */
class RecordingAdamW extends AdamW {
  seen: tf.Tensor[][] = [];
  override applyGradients(grads: readonly tf.Tensor[], lr: number): void {
    this.seen.push(grads.map((g) => tf.keep(tf.clone(g))));
    super.applyGradients(grads, lr);
  }
  async readSeen(): Promise<number[][]> {
    const out = await Promise.all(
      this.seen.map(async (gs) => (await Promise.all(gs.map(read))).flat()),
    );
    tf.dispose(this.seen.flat());
    this.seen = [];
    return out;
  }
}

// 8 episodes of different prompt / completion lengths; old log-probs away from the policy's so
// some ratios clip; one truncated (masked with maskTruncatedCompletions).
const EPISODES: UpdateEpisode[] = [
  [
    [1, 2],
    [3, 4, EOS],
  ],
  [[1], [6, EOS]],
  [
    [2, 5, 1, 4],
    [3, 3, 3, 5, 6, 2],
  ],
  [[4, 4], [EOS]],
  [
    [1, 2, 3],
    [5, 6, 1, 2],
  ],
  [[6], [2, 2, 3, 4, 5, 1, 6, 3]],
  [
    [3, 1],
    [4, EOS],
  ],
  [
    [5, 5, 5],
    [1, 2, 3],
  ],
].map(([p, c], i) => ({
  promptIds: p!,
  completionIds: c!,
  oldLogProbs: c!.map((_, j) => -2.08 + 0.25 * Math.sin(3 * i + j)),
  advantage: [1, -1, 0.5, -0.25, 2, -2, 0.75, -0.5][i]!,
  truncated: i === 5,
}));

async function run(
  input: GrpoConfigInput,
): Promise<{ grads: number[][]; stats: UpdateStats; leaked: number }> {
  const model = tinyModel(3);
  const reference = tinyModel(4);
  const vars = createOptimizer(model).variables;
  const optimizer = new RecordingAdamW(vars);
  const cfg = resolveGrpoConfig({
    maxGradNorm: 0,
    learningRate: 1e-2,
    maxCompletionLength: 8,
    ...input,
  });
  const before = tf.memory().numTensors;
  const stats = await updatePolicy({ policy: model, optimizer, reference }, EPISODES, cfg);
  const grads = await optimizer.readSeen();
  const leaked = tf.memory().numTensors - before;
  optimizer.dispose();
  model.dispose();
  reference.dispose();
  return { grads, stats, leaked };
}

const BUDGET = 24; // packs each micro-batch of 4 episodes into 2-4 passes (checked below)

describe('updatePolicy with maxTokensPerMicroBatch', () => {
  it('the budget really splits the micro-batches of these tests', () => {
    for (const half of [EPISODES.slice(0, 4), EPISODES.slice(4)]) {
      const passes = packByTokens(
        half.map((e) => ({ head: e.promptIds.length, tail: e.completionIds.length })),
        BUDGET,
      );
      expect(passes.length).toBeGreaterThan(1);
      expect(passes.length).toBeLessThan(4 + 1);
    }
    // and the whole step of 8 would not fit in one pass either
    expect(
      packByTokens(
        EPISODES.map((e) => ({ head: e.promptIds.length, tail: e.completionIds.length })),
        BUDGET,
      ).length,
    ).toBeGreaterThan(2);
  });

  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
    it(`${lossType}: gradients and records equal the unsplit update to 1e-6, without leaks`, async () => {
      const common: GrpoConfigInput = {
        lossType,
        gradientAccumulationSteps: 2,
        numIterations: 2,
        maskTruncatedCompletions: true,
        beta: 0.04,
      };
      const whole = await run(common);
      const split = await run({ ...common, maxTokensPerMicroBatch: BUDGET });
      expect(whole.leaked).toBe(0);
      expect(split.leaked).toBe(0);
      expect(split.grads).toHaveLength(2);
      for (let u = 0; u < 2; u++) {
        const norm = Math.sqrt(whole.grads[u]!.reduce((s, g) => s + g * g, 0));
        expect(norm).toBeGreaterThan(1e-3); // a gradient that can differ
        expectClose(split.grads[u]!, whole.grads[u]!, 1e-6);
      }
      expectClose(split.stats.gradNorms, whole.stats.gradNorms, 1e-6);
      expect(split.stats.microBatches).toHaveLength(whole.stats.microBatches.length);
      split.stats.microBatches.forEach((m, k) => {
        const w = whole.stats.microBatches[k]!;
        expect(m.iteration).toBe(w.iteration);
        expect(m.activeTokens).toBe(w.activeTokens);
        expectClose(
          [m.loss, m.clipLow, m.clipHigh, m.clipRegion, m.kl, m.entropy],
          [w.loss, w.clipLow, w.clipHigh, w.clipRegion, w.kl, w.entropy],
          1e-6,
        );
      });
      // the old log-probs are off the policy, so clipping happens and is counted
      expect(whole.stats.microBatches.some((m) => m.clipRegion > 0)).toBe(true);
    });
  }

  it("GSPO ('sequence'): per-sequence clip fractions combine by rows", async () => {
    const common: GrpoConfigInput = {
      lossType: 'grpo',
      importanceSamplingLevel: 'sequence',
      gradientAccumulationSteps: 2,
      epsilon: 0.02,
    };
    const whole = await run(common);
    const split = await run({ ...common, maxTokensPerMicroBatch: BUDGET });
    expectClose(split.grads[0]!, whole.grads[0]!, 1e-6);
    expectClose(
      split.stats.microBatches.flatMap((m) => [m.clipLow, m.clipHigh, m.clipRegion, m.loss]),
      whole.stats.microBatches.flatMap((m) => [m.clipLow, m.clipHigh, m.clipRegion, m.loss]),
      1e-6,
    );
  });

  it('a budget below every completion gives each its own pass, same gradient', async () => {
    const whole = await run({ lossType: 'bnpo' });
    const split = await run({ lossType: 'bnpo', maxTokensPerMicroBatch: 1 });
    expect(split.leaked).toBe(0);
    expectClose(split.grads[0]!, whole.grads[0]!, 1e-6);
  });

  it('a budget that fits the micro-batch is the unsplit update bit for bit', async () => {
    const whole = await run({ lossType: 'grpo' });
    const roomy = await run({ lossType: 'grpo', maxTokensPerMicroBatch: 10_000 });
    expect(roomy.grads).toEqual(whole.grads);
    expect(roomy.stats).toEqual(whole.stats);
  });

  it('rejects bad budgets and the entropy quantile with a budget, naming the option', () => {
    for (const v of [0, -3, 2.5, Number.NaN]) {
      expect(() => resolveGrpoConfig({ maxTokensPerMicroBatch: v })).toThrow(
        /maxTokensPerMicroBatch = .* is invalid; expected an integer >= 1/,
      );
    }
    const err = (() => {
      try {
        resolveGrpoConfig({ maxTokensPerMicroBatch: 64, topEntropyQuantile: 0.2 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(GrpoError);
    expect((err as GrpoError).code).toBe('BAD_CONFIG');
    expect((err as Error).message).toMatch(/topEntropyQuantile = 0.2/);
    expect(resolveGrpoConfig({}).maxTokensPerMicroBatch).toBeUndefined();
  });
});
