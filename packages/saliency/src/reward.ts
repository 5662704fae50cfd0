// The AtManRL saliency reward from the mask statistic H (method.md §3). Only the scalar map; the
// mask fit lives in fit.ts and reward composition in @atmanrl/grpo.
import { SaliencyError } from './errors.js';

/** Which way round the reward reads H (method.md §3). */
export type SaliencyRewardDirection = 'reliance' | 'paper-literal';

/** Options of {@link saliencyReward}. */
export interface SaliencyRewardOptions {
  /** The mask initialisation c (default -0.4); must be negative. */
  c?: number;
  /**
   * `'reliance'` (default): `1 - H/c`, high when the answer needs a large share of the CoT.
   * `'paper-literal'`: `H/c` (the paper's Eq. 3 as printed), high when nothing was re-enabled.
   */
  direction?: SaliencyRewardDirection;
}

/**
 * The saliency reward of one rollout from `H = mean_j min(θ_j, 0)`.
 *
 * With `c < 0` and `H ∈ [c, 0]`: `'reliance'` gives `1 - H/c ∈ [0, 1]` (0 = no CoT token was
 * re-enabled, 1 = all were fully re-enabled); `'paper-literal'` gives `H/c`, its complement.
 * Values outside [c, 0] (θ pushed below c) are not clipped, so the reward can leave [0, 1].
 *
 * @param h the mask statistic H of one rollout
 * @param options `c` (default -0.4) and `direction` (default `'reliance'`)
 * @throws SaliencyError `BAD_OPTION` for c >= 0 or an unknown direction, `BAD_ARGUMENT` for non-finite H
 * @example
 * ```ts
 * import { saliencyReward } from '@atmanrl/saliency';
 * console.log(saliencyReward(-0.1)); // 1 − H/c = 1 − (−0.1 / −0.4) = 0.75
 * console.log(saliencyReward(-0.1, { direction: 'paper-literal' })); // H/c = 0.25
 * ```
 */
export function saliencyReward(h: number, options: SaliencyRewardOptions = {}): number {
  const c = options.c ?? -0.4;
  const direction = options.direction ?? 'reliance';
  if (!(c < 0) || !Number.isFinite(c)) {
    throw new SaliencyError(
      'BAD_OPTION',
      `saliencyReward: c is ${c}, expected a finite negative number (default -0.4)`,
    );
  }
  if (!Number.isFinite(h)) {
    throw new SaliencyError(
      'BAD_ARGUMENT',
      `saliencyReward: H is ${h}, expected a finite number in [c, 0]`,
    );
  }
  if (direction === 'reliance') return 1 - h / c;
  if (direction === 'paper-literal') return h / c;
  throw new SaliencyError(
    'BAD_OPTION',
    `saliencyReward: direction is ${String(direction)}, expected 'reliance' or 'paper-literal'`,
  );
}
