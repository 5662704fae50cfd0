// Group-relative advantages (method.md §4): centre each reward on its group's mean and scale by a
// standard deviation. Host-side on plain numbers; tensors come later (loss.ts broadcasts them).

import { nanMean, nanStd } from './_internal/stats.js';
import type { ScaleRewards } from './config.js';
import { GrpoError } from './errors.js';

/** Options of {@link groupAdvantages}. */
export interface AdvantageOptions {
  /** G: consecutive rewards `[g*G, (g+1)*G)` form one group. */
  groupSize: number;
  /** Divide by the group std ('group', default), the batch std ('batch') or not at all ('none'). */
  scaleRewards?: ScaleRewards;
  /** Added to the std before dividing (default 1e-4, as TRL). */
  epsilon?: number;
}

/** Advantages plus the statistics TRL logs from the same computation. */
export interface AdvantageResult {
  /** `[B]` one advantage per completion, B = groups × G. */
  advantages: number[];
  /** `[B]` the group mean each reward was centred on. */
  groupMean: number[];
  /** `[B]` the std used ('batch': batch std; 'group' and 'none': group std, for logging). */
  std: number[];
  /** `[B]` true where that std is (numerically) zero: a group that gives no learning signal. */
  isStdZero: boolean[];
}

/**
 * `A_i = (r_i - mean_G) / (std + eps)` where the mean is always the group's and std is the
 * group's ('group'), the batch's ('batch', PPO-Lite) or 1 with eps 0 ('none', Dr. GRPO).
 * Std is Bessel-corrected as torch.std, as in TRL.
 *
 * @param rewards `[B]` total reward per completion, grouped contiguously
 * @throws GrpoError `BAD_ARGUMENT` when B is not a multiple of G or a reward is not finite
 * @example
 * ```ts
 * import { groupAdvantages } from '@atmanrl/grpo';
 * // two groups of G = 4 completions: one with a signal, one where every completion scored 1
 * const { advantages, isStdZero } = groupAdvantages([1, 0, 0, 0, 1, 1, 1, 1], { groupSize: 4 });
 * console.log(advantages.slice(0, 4)); // mean 0.25, std 0.5: ≈ [1.5, -0.5, -0.5, -0.5]
 * console.log(advantages.slice(4), isStdZero[4]); // [0, 0, 0, 0] true: no learning signal
 * ```
 */
export function groupAdvantages(
  rewards: readonly number[],
  options: AdvantageOptions,
): AdvantageResult {
  const g = options.groupSize;
  const scale = options.scaleRewards ?? 'group';
  const eps = options.epsilon ?? 1e-4;
  if (!Number.isInteger(g) || g < 1) {
    throw new GrpoError('BAD_ARGUMENT', `groupSize = ${g}; expected a positive integer`);
  }
  if (rewards.length % g !== 0 || rewards.length === 0) {
    throw new GrpoError(
      'BAD_ARGUMENT',
      `${rewards.length} rewards do not split into groups of G = ${g}; pass G completions per prompt`,
    );
  }
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) {
      throw new GrpoError('BAD_ARGUMENT', `reward ${i} is ${r}; total rewards must be finite`);
    }
  });
  const b = rewards.length;
  const groupMean = new Array<number>(b);
  const groupStd = new Array<number>(b);
  for (let start = 0; start < b; start += g) {
    const group = rewards.slice(start, start + g);
    const m = nanMean(group);
    const s = nanStd(group);
    for (let i = start; i < start + g; i++) {
      groupMean[i] = m;
      groupStd[i] = s;
    }
  }
  const std = scale === 'batch' ? new Array<number>(b).fill(nanStd(rewards)) : groupStd;
  const advantages = rewards.map((r, i) => {
    const centred = r - groupMean[i]!;
    return scale === 'none' ? centred : centred / (std[i]! + eps);
  });
  // torch.isclose(std, 0): |std| <= atol (1e-8) + rtol * 0
  const isStdZero = std.map((s) => Math.abs(s) <= 1e-8);
  return { advantages, groupMean, std, isStdZero };
}
