// The one rollout record (GRPO-Zero's `Episode`): a sampled completion with everything the later
// stages add to it — raw rewards and what each reward learned, the total, the advantage. It flows
// rollout -> rewards -> advantages -> update -> the trainer's sample log. Plain data, no tensors.
import type { CombinedRewards, ScoredCompletions } from './rewards.js';
import type { Rollout } from './rollout.js';

/** One completion of one prompt, and what the step learned about it. */
export interface Episode<S = unknown> {
  /** Index of the prompt in the batch. */
  promptIndex: number;
  /** g in [0, G): which of the prompt's completions this is. */
  completionIndex: number;
  /** The dataset sample of the prompt. */
  sample: S;
  /** Prompt token ids (chat template applied). */
  promptIds: number[];
  /** Generated ids, EOS included when produced. */
  completionIds: number[];
  /** Decoded completion. */
  text: string;
  /** True when the length limit was hit without EOS or a stop string. */
  truncated: boolean;
  /** `[Tc]` log-probs under the sampling policy, or null when the engine had none. */
  oldLogProbs: number[] | null;
  /** Raw reward of every function, by name (NaN = not applicable). */
  rewards: Record<string, number>;
  /** Per-reward info records by reward name, for the rewards that return one (e.g. a mask fit). */
  rewardInfo: Record<string, unknown>;
  /** Total reward after gates and weights (NaN until advantages are assigned). */
  reward: number;
  /** Advantage (NaN until assigned). */
  advantage: number;
}

/**
 * Episodes of sampled rollouts (element `p*G + g`), before any reward.
 * @example
 * ```ts
 * import { episodesFromRollouts, type Rollout } from '@atmanrl/grpo';
 * const rollouts: Rollout[] = [
 *   { promptIndex: 0, promptIds: [1, 2], completionIds: [5, 15], text: '', oldLogProbs: [-1.2, -0.3], truncated: false },
 *   { promptIndex: 0, promptIds: [1, 2], completionIds: [7], text: '', oldLogProbs: [-2], truncated: true },
 * ];
 * const episodes = episodesFromRollouts(rollouts, ['the sample of prompt 0'], 2);
 * console.log(episodes[1]!.completionIndex, episodes[1]!.sample); // 1 'the sample of prompt 0'
 * ```
 */
export function episodesFromRollouts<S>(
  rollouts: readonly Rollout[],
  samples: readonly S[],
  groupSize: number,
): Episode<S>[] {
  return rollouts.map((r, i) => ({
    promptIndex: r.promptIndex,
    completionIndex: i % groupSize,
    sample: samples[r.promptIndex] as S,
    promptIds: r.promptIds,
    completionIds: r.completionIds,
    text: r.text,
    truncated: r.truncated,
    oldLogProbs: r.oldLogProbs,
    rewards: {},
    rewardInfo: {},
    reward: Number.NaN,
    advantage: Number.NaN,
  }));
}

/**
 * Writes scored rewards and their info onto the episodes (in place).
 * @example
 * ```ts
 * import { episodesFromRollouts, recordRewards } from '@atmanrl/grpo';
 * const rollout = { promptIndex: 0, promptIds: [1], completionIds: [4], text: '4', oldLogProbs: null, truncated: false };
 * const episodes = episodesFromRollouts([rollout, { ...rollout, completionIds: [5], text: '5' }], ['4'], 2);
 * recordRewards(episodes, { raw: { outcome: [0, -1] }, info: { outcome: ['right', 'wrong'] }, timesMs: { outcome: 1 } });
 * console.log(episodes[1]!.rewards, episodes[1]!.rewardInfo); // { outcome: -1 } { outcome: 'wrong' }
 * ```
 */
export function recordRewards(episodes: readonly Episode[], scored: ScoredCompletions): void {
  episodes.forEach((e, i) => {
    for (const [name, values] of Object.entries(scored.raw)) e.rewards[name] = values[i]!;
    for (const [name, info] of Object.entries(scored.info)) e.rewardInfo[name] = info[i];
  });
}

/**
 * Writes totals and advantages onto the episodes (in place).
 * @example
 * ```ts
 * import { episodesFromRollouts, recordAdvantages } from '@atmanrl/grpo';
 * const rollout = { promptIndex: 0, promptIds: [1], completionIds: [4], text: '', oldLogProbs: null, truncated: false };
 * const episodes = episodesFromRollouts([rollout, rollout], [null], 2);
 * recordAdvantages(episodes, { total: [1, 0], advantages: [0.7071, -0.7071] });
 * console.log(episodes.map((e) => [e.reward, e.advantage])); // [[1, 0.7071], [0, -0.7071]]
 * ```
 */
export function recordAdvantages(
  episodes: readonly Episode[],
  combined: Pick<CombinedRewards, 'total' | 'advantages'>,
): void {
  episodes.forEach((e, i) => {
    e.reward = combined.total[i]!;
    e.advantage = combined.advantages[i]!;
  });
}
