// The trainer's reward specs: the outcome reward of the paper (0 correct / -1 wrong), which also
// hands on its judgement ({ correct, split }) as the episode's `rewardInfo.outcome`, and the
// AtManRL saliency reward from @atmanrl/saliency (method.md §2-4), and the two control rewards
// of issue 29 (length penalty, truncation reward), wired to the run's config. Every reward but the
// outcome splits completions with the outcome reward's split (SplitMemo) and the task's delimiter.
import type { CompletionSplit, Judgement } from '@atmanrl/datasets';
import type { Episode, RewardFn, RewardSpec } from '@atmanrl/grpo';
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import {
  createLengthPenalty,
  createSaliencyReward,
  createTruncationReward,
  type SaliencyRewardFnOptions,
} from '@atmanrl/saliency';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { type SaliencyFitConfig, saliencyFitOptions } from './run-setup.js';
import type { Task, TaskItem } from './task.js';

/** The judgement of an episode that the outcome reward recorded (`rewardInfo.outcome`). */
export function judgementOf(episode: Pick<Episode, 'rewardInfo'>): Judgement {
  const j = episode.rewardInfo['outcome'] as Judgement | undefined;
  if (j === undefined) throw new Error('episode has no outcome judgement (rewardInfo.outcome)');
  return j;
}

/**
 * The splits the outcome reward made for one batch, by completion text, so that the saliency
 * reward (which runs after it on the same completions) reuses them instead of splitting again.
 */
class SplitMemo {
  private splits = new Map<string, CompletionSplit>();
  constructor(private readonly task: Task) {}
  /** Replaces the memo with this batch's judgements. */
  remember(texts: readonly string[], judged: readonly Judgement[]): void {
    this.splits = new Map(texts.map((t, i) => [t, judged[i]!.split]));
  }
  split(text: string): CompletionSplit {
    return this.splits.get(text) ?? this.task.split(text);
  }
}

/**
 * Outcome reward of the paper: 0 when the parsed answer is correct, -1 otherwise; its info is
 * the task's judgement of each completion (`{ correct, split }`).
 */
export function outcomeReward(task: Task, memo?: SplitMemo): RewardFn<TaskItem> {
  return async (samples, completions) => {
    const info = completions.map((c, i) => task.judge(c.text, samples[i]!.sample.gold));
    memo?.remember(
      completions.map((c) => c.text),
      info,
    );
    return { values: info.map((j) => (j.correct ? 0 : -1)), info };
  };
}

/** Progress callback of the saliency fit: (step, total). */
export type FitProgress = (step: number, total: number) => void;

/** Where the saliency reward's mask fits run (default: in this process on the policy). */
export type FitMasks = NonNullable<SaliencyRewardFnOptions<TaskItem>['fitMasks']>;

/** The run-config keys the reward specs read. */
export type RewardConfig = SaliencyFitConfig &
  Pick<
    RunConfig,
    | 'outcomeWeight'
    | 'saliencyReward'
    | 'saliencyDirection'
    | 'saliencyGate'
    | 'saliencyWeight'
    | 'lengthPenaltyWeight'
    | 'lengthPenaltyTarget'
    | 'lengthPenaltyMaxLength'
    | 'maxCompletionLength'
    | 'truncationReward'
    | 'truncationWeight'
    | 'truncationFractions'
    | 'truncationGate'
  >;

/**
 * The kept shares of `--truncation-fractions` (`'0,0.2,0.4'` -> `[0, 0.2, 0.4]`).
 * @throws UsageError `BAD_CONFIG` naming the flag for an empty list or a share outside [0, 1)
 */
export function parseTruncationFractions(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || !values.every((f) => Number.isFinite(f) && f >= 0 && f < 1)) {
    throw new UsageError(
      'BAD_CONFIG',
      `--truncation-fractions ${text}: expected comma-separated kept shares of the CoT, each in [0, 1), e.g. 0,0.2,0.4,0.6,0.8`,
      { flag: '--truncation-fractions' },
    );
  }
  return values;
}

/** The outcome gate: the completion was judged correct (its raw outcome reward is 0). */
const correctOnly = (i: number, raw: Readonly<Record<string, readonly number[]>>) =>
  raw['outcome']?.[i] === 0;

/**
 * The reward specs of a run: outcome, plus saliency (weighted by λ), plus the length penalty
 * (`name: 'length'`, when `lengthPenaltyWeight` > 0; its weight is inside the value, so the spec's
 * is 1) and the truncation reward (`name: 'truncation'`, weighted by `truncationWeight`). With `gate: 'correct-only'`
 * the saliency reward fits masks for correct completions only; the others get NaN, which counts
 * as 0 in the total exactly as a closed gate would (method.md §4), so no fit is wasted. `gate:
 * false` fits every completion whatever the config says (the probes).
 */
export function rewardSpecs(
  model: CausalLM,
  tokenizer: Tokenizer,
  task: Task,
  config: RewardConfig,
  options: { onProgress?: FitProgress; fitMasks?: FitMasks; gate?: boolean } = {},
): RewardSpec<TaskItem>[] {
  const memo = new SplitMemo(task);
  const specs: RewardSpec<TaskItem>[] = [
    { name: 'outcome', fn: outcomeReward(task, memo), weight: config.outcomeWeight },
  ];
  if (config.saliencyReward) {
    const onProgress = options.onProgress;
    const gated = config.saliencyGate === 'correct-only' && options.gate !== false;
    specs.push({
      name: 'saliency',
      fn: createSaliencyReward<TaskItem>({
        model,
        tokenizer,
        gold: (item) => item.sample.gold,
        split: (text) => memo.split(text),
        delimiter: task.delimiter,
        direction: config.saliencyDirection,
        ...(gated ? { gate: correctOnly } : {}),
        fit: {
          ...saliencyFitOptions(config),
          ...(onProgress
            ? { onStep: (s: { step: number }) => onProgress(s.step, config.saliencySteps) }
            : {}),
        },
        ...(options.fitMasks ? { fitMasks: options.fitMasks } : {}),
      }),
      weight: config.saliencyWeight,
    });
  }
  if (config.lengthPenaltyWeight > 0) {
    specs.push({
      name: 'length',
      fn: createLengthPenalty({
        weight: config.lengthPenaltyWeight,
        ...(config.lengthPenaltyTarget === null
          ? { maxLength: config.lengthPenaltyMaxLength ?? config.maxCompletionLength }
          : { target: config.lengthPenaltyTarget }),
        tokenizer,
        split: (text) => memo.split(text),
      }),
      weight: 1,
    });
  }
  if (config.truncationReward) {
    const gated = config.truncationGate === 'correct-only' && options.gate !== false;
    specs.push({
      name: 'truncation',
      fn: createTruncationReward<TaskItem>({
        model,
        tokenizer,
        gold: (item) => item.sample.gold,
        split: (text) => memo.split(text),
        delimiter: task.delimiter,
        fractions: parseTruncationFractions(config.truncationFractions),
        ...(gated ? { gate: correctOnly } : {}),
      }),
      weight: config.truncationWeight,
    });
  }
  return specs;
}
