// The trainer's reward specs: the outcome reward of the paper (0 correct / -1 wrong), which also
// hands on its judgement ({ correct, split }) as the episode's `rewardInfo.outcome`, and the
// AtManRL saliency reward from @atmanrl/saliency (method.md §2-4), wired to the run's config.
import type { CompletionSplit, Judgement } from '@atmanrl/datasets';
import type { Episode, RewardFn, RewardSpec } from '@atmanrl/grpo';
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import { createSaliencyReward, type SaliencyRewardFnOptions } from '@atmanrl/saliency';
import type { RunConfig } from '../config.js';
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
    'outcomeWeight' | 'saliencyReward' | 'saliencyDirection' | 'saliencyGate' | 'saliencyWeight'
  >;

/**
 * The reward specs of a run: outcome, plus saliency (weighted by λ). With `gate: 'correct-only'`
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
        ...(gated
          ? {
              gate: (i: number, raw: Readonly<Record<string, readonly number[]>>) =>
                raw['outcome']?.[i] === 0,
            }
          : {}),
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
  return specs;
}
