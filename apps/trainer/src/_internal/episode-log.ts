// What the trainer reads off a step's episodes: the outcome reward's judgement and split
// (`rewardInfo.outcome`) and the saliency reward's token split and mask fit
// (`rewardInfo.saliency`), never judged or split again; from them the rollout metrics (accuracy,
// CoT length, reasoning-mode shares, each reward's cost) and the sample-log records. Host-side only.
import type { ReasoningModeClassifier } from '@atmanrl/datasets';
import type { Episode } from '@atmanrl/grpo';
import type { Tokenizer } from '@atmanrl/model';
import type { SampleRecord, WithoutVersion } from '@atmanrl/runs';
import {
  type CompletionSpans,
  type RewardCost,
  type SaliencyRewardInfo,
  spanTokens,
  splitCompletionIds,
} from '@atmanrl/saliency';
import { judgementOf } from './rewards.js';
import type { TaskItem } from './task.js';

/** Token splits made here (saliency reward off), so metrics and records map each episode once. */
const madeSpans = new WeakMap<object, CompletionSpans>();

/** The token split of an episode: the saliency reward's when it ran, else from the judgement's split. */
function spansOf(tokenizer: Tokenizer, e: Episode<TaskItem>): CompletionSpans {
  const info = e.rewardInfo['saliency'] as SaliencyRewardInfo | undefined;
  if (info) return info.spans;
  let spans = madeSpans.get(e);
  if (spans === undefined) {
    spans = splitCompletionIds(tokenizer, e.completionIds, judgementOf(e).split);
    madeSpans.set(e, spans);
  }
  return spans;
}

/** The reasoning mode of an episode's CoT under its task's classifier, from its recorded split. */
function modeOf(modes: ReasoningModeClassifier, e: Episode<TaskItem>): string {
  return modes.classify(e.sample.sample, e.text.slice(...judgementOf(e).split.cotRange));
}

/**
 * Per-rollout cost of each reward that reports one (`info.cost`, a `RewardCost`), averaged over
 * the step's episodes: `time/reward_per_rollout/<name>` (seconds, under `time/` with the other
 * wall times, which differ between backends and machines), `rewards/<name>/forward_passes_per_rollout`
 * and `rewards/<name>/backward_passes_per_rollout`.
 */
export function rewardCostMetrics(episodes: readonly Episode<TaskItem>[]): Record<string, number> {
  const sums = new Map<string, { ms: number; fwd: number; bwd: number; n: number }>();
  for (const e of episodes) {
    for (const [name, info] of Object.entries(e.rewardInfo)) {
      const cost = (info as { cost?: RewardCost } | null | undefined)?.cost;
      if (cost === undefined) continue;
      const s = sums.get(name) ?? { ms: 0, fwd: 0, bwd: 0, n: 0 };
      s.ms += cost.ms;
      s.fwd += cost.forwardPasses;
      s.bwd += cost.backwardPasses;
      s.n++;
      sums.set(name, s);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, s] of sums) {
    out[`time/reward_per_rollout/${name}`] = s.ms / s.n / 1000;
    out[`rewards/${name}/forward_passes_per_rollout`] = s.fwd / s.n;
    out[`rewards/${name}/backward_passes_per_rollout`] = s.bwd / s.n;
  }
  return out;
}

/**
 * Rollout metrics of a step: `accuracy`, `cot_tokens/mean`, each reward's cost
 * ({@link rewardCostMetrics}), and, when the task has reasoning modes (`task.modes`),
 * `modes/<label>` (share of the step's rollouts in each mode).
 */
export function rolloutMetrics(
  tokenizer: Tokenizer,
  episodes: readonly Episode<TaskItem>[],
  modes: ReasoningModeClassifier | undefined,
): Record<string, number> {
  const n = Math.max(1, episodes.length);
  const out: Record<string, number> = {
    accuracy: episodes.filter((e) => judgementOf(e).correct).length / n,
    'cot_tokens/mean': episodes.reduce((s, e) => s + spansOf(tokenizer, e).cotEnd, 0) / n,
    ...rewardCostMetrics(episodes),
  };
  if (episodes.length > 0 && modes) {
    const labels = episodes.map((e) => modeOf(modes, e));
    for (const label of modes.labels)
      out[`modes/${label}`] = labels.filter((m) => m === label).length / n;
  }
  return out;
}

/** The mask statistics H of a step's fitted masks (for the finite check). */
export function maskStatistics(episodes: readonly Episode<TaskItem>[]): number[] {
  return episodes.flatMap((e) => {
    const fit = (e.rewardInfo['saliency'] as SaliencyRewardInfo | undefined)?.fit;
    return fit ? [fit.h] : [];
  });
}

const finiteOr = (x: number, fallback: number): number => (Number.isFinite(x) ? x : fallback);

/** The sample-log records of a step (one per episode; `mode` when the task has modes). */
export function sampleRecords(
  step: number,
  tokenizer: Tokenizer,
  episodes: readonly Episode<TaskItem>[],
  modes: ReasoningModeClassifier | undefined,
): WithoutVersion<SampleRecord>[] {
  return episodes.map((e) => {
    const { correct, split } = judgementOf(e);
    const spans = spansOf(tokenizer, e);
    const fit = (e.rewardInfo['saliency'] as SaliencyRewardInfo | undefined)?.fit ?? null;
    const rewards: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(e.rewards)) rewards[k] = Number.isFinite(v) ? v : null;
    const tokens = spanTokens(spans, fit ? fit.relevance : null).map((t, i) => ({
      text: t.text,
      span: t.span,
      relevance: t.relevance,
      ...(fit && i < fit.theta.length ? { theta: fit.theta[i]! } : {}),
    }));
    return {
      step,
      promptIndex: e.promptIndex,
      completionIndex: e.completionIndex,
      sampleId: e.sample.sample.id,
      prompt: e.sample.promptText ?? tokenizer.decode(e.promptIds, { skipSpecialTokens: false }),
      completion: e.text,
      gold: e.sample.sample.gold,
      parsedAnswer: split.parsedAnswer,
      correct,
      truncated: e.truncated,
      cotRange: split.cotRange,
      answerRange: split.answerRange,
      rewards,
      reward: finiteOr(e.reward, 0),
      advantage: finiteOr(e.advantage, 0),
      completionTokens: e.completionIds.length,
      cotTokens: spans.cotEnd,
      ...(modes ? { mode: modeOf(modes, e) } : {}),
      tokens,
      ...(fit
        ? {
            saliency: {
              H: fit.h,
              reward: finiteOr(e.rewards['saliency'] ?? Number.NaN, 0),
              // --saliency-diagnostics false: no CE without a mask or under the fitted mask
              ...(Number.isFinite(fit.ceNoBias) ? { ceNoBias: fit.ceNoBias } : {}),
              ceInitial: fit.ceInitial,
              ...(Number.isFinite(fit.ceFinal) ? { ceFinal: fit.ceFinal } : {}),
              fitSteps: fit.steps,
            },
          }
        : {}),
    };
  });
}
