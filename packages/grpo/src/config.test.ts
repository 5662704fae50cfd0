import { describe, expect, it } from 'vitest';
import { GRPO_DEFAULTS, resolveGrpoConfig } from './config.js';

describe('resolveGrpoConfig', () => {
  it("defaults follow TRL's GRPOConfig", () => {
    const c = resolveGrpoConfig();
    expect(c).toMatchObject({
      numGenerations: 8,
      beta: 0,
      epsilon: 0.2,
      lossType: 'dapo',
      scaleRewards: 'group',
      numIterations: 1,
      learningRate: 1e-6,
      maxGradNorm: 1,
      maxCompletionLength: 256,
      multiObjectiveAggregation: 'sum_then_normalize',
      maskTruncatedCompletions: false,
    });
    expect(c.epsilonHigh).toBeUndefined();
    expect(c).toEqual(GRPO_DEFAULTS);
  });

  it('accepts hyphenated aggregation names and overrides', () => {
    const c = resolveGrpoConfig({
      multiObjectiveAggregation: 'normalize-then-sum',
      numIterations: 2,
      epsilonHigh: 0.28,
    });
    expect(c.multiObjectiveAggregation).toBe('normalize_then_sum');
    expect(c.numIterations).toBe(2);
    expect(c.epsilonHigh).toBe(0.28);
  });

  it('rejects unknown keys and bad values with the option name', () => {
    expect(() => resolveGrpoConfig({ numGeneration: 4 } as never)).toThrow(
      /unknown GRPO option 'numGeneration'/,
    );
    expect(() => resolveGrpoConfig({ lossType: 'ppo' as never })).toThrow(/lossType 'ppo'/);
    expect(() => resolveGrpoConfig({ numGenerations: 0 })).toThrow(/numGenerations/);
    expect(() => resolveGrpoConfig({ lrSchedulerType: 'linear' })).toThrow(/maxSteps/);
    expect(() => resolveGrpoConfig({ topP: 1.5 })).toThrow(/topP/);
  });
});
