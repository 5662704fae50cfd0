import { describe, expect, it } from 'vitest';
import { learningRateAt, warmupStepCount } from './schedule.js';

describe('learningRateAt', () => {
  it('constant ignores the step', () => {
    expect(learningRateAt(0, { learningRate: 1e-6 })).toBe(1e-6);
    expect(
      learningRateAt(1000, { learningRate: 1e-6, lrSchedulerType: 'constant', warmupSteps: 5 }),
    ).toBe(1e-6);
  });

  it('linear: warm-up from 0, then linear decay to 0 at maxSteps (Transformers semantics)', () => {
    const o = { learningRate: 1, lrSchedulerType: 'linear' as const, warmupSteps: 2, maxSteps: 10 };
    expect([0, 1, 2, 6, 10, 12].map((s) => learningRateAt(s, o))).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });

  it('warmupRatio rounds up; constant_with_warmup and cosine', () => {
    expect(warmupStepCount({ learningRate: 1, warmupRatio: 0.25, maxSteps: 10 })).toBe(3);
    expect(
      learningRateAt(1, {
        learningRate: 1,
        lrSchedulerType: 'constant_with_warmup',
        warmupSteps: 4,
      }),
    ).toBe(0.25);
    expect(
      learningRateAt(9, {
        learningRate: 1,
        lrSchedulerType: 'constant_with_warmup',
        warmupSteps: 4,
      }),
    ).toBe(1);
    expect(
      learningRateAt(5, { learningRate: 1, lrSchedulerType: 'cosine', maxSteps: 10 }),
    ).toBeCloseTo(0.5, 12);
  });

  it('decaying schedules without maxSteps are a config error', () => {
    expect(() => learningRateAt(3, { learningRate: 1, lrSchedulerType: 'linear' })).toThrow(
      /maxSteps/,
    );
  });
});
