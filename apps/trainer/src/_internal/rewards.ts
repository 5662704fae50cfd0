// The trainer's reward functions: outcome (0 correct / -1 wrong, the paper's) and the AtManRL
// saliency reward (fit one mask per completion, reward = 1 - H/c or H/c; method.md §2-3).
import type { RewardFn, RewardSpec } from '@atmanrl/grpo';
import { whenReward } from '@atmanrl/grpo';
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import { fitSaliencyMasks, type MaskFitResult, saliencyReward } from '@atmanrl/saliency';
import type { RunConfig } from '../config.js';
import { saliencyFitOptions } from './run-setup.js';
import { type CompletionTokens, saliencyItem, splitCompletionTokens } from './spans.js';
import { judge, splitText, type Task, type TaskItem } from './task.js';

/** What the saliency reward learned about each completion of the current step (for logging). */
export interface SaliencyNotes {
  splits: CompletionTokens[];
  fits: (MaskFitResult | null)[];
}

/** Outcome reward of the paper: 0 when the parsed answer is correct, -1 otherwise. */
export function outcomeReward(task: Task): RewardFn<TaskItem> {
  return async (samples, completions) =>
    completions.map((c, i) => (judge(task, c.text, samples[i]!.sample.gold).correct ? 0 : -1));
}

/** Progress callback of the saliency fit: (step, total). */
export type FitProgress = (step: number, total: number) => void;

/**
 * The saliency reward: fits all completions' masks in one batch on the frozen policy and maps
 * `H` to a reward. Notes of the last call are kept in `notes` for the sample log.
 */
export function saliencyRewardFn(
  model: CausalLM,
  tokenizer: Tokenizer,
  task: Task,
  config: RunConfig,
  notes: SaliencyNotes,
  onProgress?: FitProgress,
): RewardFn<TaskItem> {
  return async (samples, completions, ctx) => {
    const splits = completions.map((c) =>
      splitCompletionTokens(tokenizer, c.tokenIds, splitText(task, c.text)),
    );
    const items = splits.map((s, i) =>
      saliencyItem(tokenizer, ctx.promptIds[i]!, s, samples[i]!.sample.gold, task.delimiter),
    );
    const fits = await fitSaliencyMasks(model, items, {
      ...saliencyFitOptions(config),
      ...(onProgress
        ? { onStep: (info: { step: number }) => onProgress(info.step, config.saliencySteps) }
        : {}),
    });
    notes.splits = splits;
    notes.fits = fits;
    return fits.map((f) =>
      saliencyReward(f.h, { c: config.saliencyInit, direction: config.saliencyDirection }),
    );
  };
}

/** The reward specs of a run: outcome, plus saliency (weighted by λ, optionally gated). */
export function rewardSpecs(
  model: CausalLM,
  tokenizer: Tokenizer,
  task: Task,
  config: RunConfig,
  notes: SaliencyNotes,
  onProgress?: FitProgress,
): RewardSpec<TaskItem>[] {
  const specs: RewardSpec<TaskItem>[] = [
    { name: 'outcome', fn: outcomeReward(task), weight: config.outcomeWeight },
  ];
  if (config.saliencyReward) {
    specs.push({
      name: 'saliency',
      fn: saliencyRewardFn(model, tokenizer, task, config, notes, onProgress),
      weight: config.saliencyWeight,
      ...(config.saliencyGate === 'correct-only'
        ? { gate: whenReward('outcome', (r) => r === 0) }
        : {}),
    });
  }
  return specs;
}
