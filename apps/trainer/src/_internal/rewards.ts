// The trainer's reward specs: the outcome reward of the paper (0 correct / -1 wrong) and the
// AtManRL saliency reward from @atmanrl/saliency (method.md §2-4), wired to the run's config.
import type { RewardFn, RewardSpec } from '@atmanrl/grpo';
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import { createSaliencyReward, type SaliencyRewardFnOptions } from '@atmanrl/saliency';
import type { RunConfig } from '../config.js';
import { saliencyFitOptions } from './run-setup.js';
import { judge, splitText, type Task, type TaskItem } from './task.js';

/** Outcome reward of the paper: 0 when the parsed answer is correct, -1 otherwise. */
export function outcomeReward(task: Task): RewardFn<TaskItem> {
  return async (samples, completions) =>
    completions.map((c, i) => (judge(task, c.text, samples[i]!.sample.gold).correct ? 0 : -1));
}

/** Progress callback of the saliency fit: (step, total). */
export type FitProgress = (step: number, total: number) => void;

/** Where the saliency reward's mask fits run (default: in this process on the policy). */
export type FitMasks = NonNullable<SaliencyRewardFnOptions<TaskItem>['fitMasks']>;

/**
 * The reward specs of a run: outcome, plus saliency (weighted by λ). With `gate: 'correct-only'`
 * the saliency reward fits masks for correct completions only; the others get NaN, which counts
 * as 0 in the total exactly as a closed gate would (method.md §4), so no fit is wasted.
 */
export function rewardSpecs(
  model: CausalLM,
  tokenizer: Tokenizer,
  task: Task,
  config: RunConfig,
  options: { onProgress?: FitProgress; fitMasks?: FitMasks } = {},
): RewardSpec<TaskItem>[] {
  const specs: RewardSpec<TaskItem>[] = [
    { name: 'outcome', fn: outcomeReward(task), weight: config.outcomeWeight },
  ];
  if (config.saliencyReward) {
    const onProgress = options.onProgress;
    specs.push({
      name: 'saliency',
      fn: createSaliencyReward<TaskItem>({
        model,
        tokenizer,
        gold: (item) => item.sample.gold,
        split: (text) => splitText(task, text),
        delimiter: task.delimiter,
        direction: config.saliencyDirection,
        ...(config.saliencyGate === 'correct-only'
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
