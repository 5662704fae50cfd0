// Learning-rate schedules with Hugging Face Transformers semantics (get_scheduler): a multiplier
// of the peak rate as a function of the number of updates already applied. Pure function of the
// step, so resuming needs only the step count.
import type { LrSchedulerType } from './config.js';
import { GrpoError } from './errors.js';

/** Options of {@link learningRateAt}. */
export interface LrScheduleOptions {
  /** Peak learning rate. */
  learningRate: number;
  /** Default 'constant'. */
  lrSchedulerType?: LrSchedulerType;
  /** Warm-up updates; wins over `warmupRatio` when > 0. */
  warmupSteps?: number;
  /** Warm-up as a fraction of `maxSteps` (rounded up, as Transformers). */
  warmupRatio?: number;
  /** Total updates; required by 'linear' and 'cosine'. */
  maxSteps?: number;
}

/**
 * Warm-up length in updates: `warmupSteps` if > 0, else `ceil(warmupRatio · maxSteps)`.
 * @example
 * ```ts
 * import { warmupStepCount } from '@atmanrl/grpo';
 * console.log(warmupStepCount({ learningRate: 1e-6, warmupRatio: 0.1, maxSteps: 95 })); // ceil(9.5) = 10
 * ```
 */
export function warmupStepCount(o: LrScheduleOptions): number {
  if ((o.warmupSteps ?? 0) > 0) return o.warmupSteps!;
  return Math.ceil((o.warmupRatio ?? 0) * (o.maxSteps ?? 0));
}

/**
 * Learning rate for the update with 0-based index `step` (the number already applied):
 * - constant: `lr`;
 * - constant_with_warmup: `lr · min(1, step/warmup)`;
 * - linear: warm-up, then `lr · max(0, (maxSteps - step)/(maxSteps - warmup))`;
 * - cosine: warm-up, then `lr · 0.5·(1 + cos(π·progress))`.
 * As in Transformers, a schedule with warm-up starts at 0.
 * @throws GrpoError `BAD_CONFIG` when a decaying schedule has no maxSteps
 * @example
 * ```ts
 * import { learningRateAt } from '@atmanrl/grpo';
 * const schedule = { learningRate: 1e-5, lrSchedulerType: 'linear', warmupSteps: 10, maxSteps: 110 } as const;
 * console.log(learningRateAt(5, schedule)); // 5e-6: half-way through the warm-up
 * console.log(learningRateAt(60, schedule)); // 5e-6: half-way down the linear decay
 * ```
 */
export function learningRateAt(step: number, o: LrScheduleOptions): number {
  const type = o.lrSchedulerType ?? 'constant';
  const warmup = warmupStepCount(o);
  if (type === 'constant') return o.learningRate;
  if (step < warmup) return (o.learningRate * step) / Math.max(1, warmup);
  if (type === 'constant_with_warmup') return o.learningRate;
  const total = o.maxSteps;
  if (total === undefined) {
    throw new GrpoError(
      'BAD_CONFIG',
      `lrSchedulerType '${type}' needs maxSteps; set it or use 'constant'`,
    );
  }
  const progress = (step - warmup) / Math.max(1, total - warmup);
  if (type === 'linear')
    return o.learningRate * Math.max(0, (total - step) / Math.max(1, total - warmup));
  return o.learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
