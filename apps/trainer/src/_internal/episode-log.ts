// What the trainer reads off a step's episodes: each completion judged and split once (the
// saliency reward's token split is reused when it ran), the rollout metrics (accuracy, CoT length,
// reasoning-mode shares) and the sample-log records. Host-side only.
import {
  type CompletionSplit,
  classifyReasoningMode,
  MODE_LABELS,
  type ModeLabel,
} from '@atmanrl/datasets';
import type { Episode } from '@atmanrl/grpo';
import type { Tokenizer } from '@atmanrl/model';
import type { SampleRecord, WithoutVersion } from '@atmanrl/runs';
import {
  type CompletionSpans,
  type MaskFitResult,
  type SaliencyRewardInfo,
  spanTokens,
  splitCompletionIds,
} from '@atmanrl/saliency';
import { judge, type Task, type TaskItem } from './task.js';

/** One episode with its judgement, text split, token split, mask fit and reasoning mode. */
export interface JudgedEpisode {
  episode: Episode<TaskItem>;
  correct: boolean;
  split: CompletionSplit;
  spans: CompletionSpans;
  /** The saliency reward's mask fit, or null (reward off, or gated out). */
  fit: MaskFitResult | null;
  /** Reasoning mode of the CoT for the synthetic modes task, else null. */
  mode: ModeLabel | null;
}

/** Judges and splits every episode once. */
export function judgeEpisodes(
  task: Task,
  tokenizer: Tokenizer,
  episodes: readonly Episode<TaskItem>[],
  withModes: boolean,
): JudgedEpisode[] {
  return episodes.map((episode) => {
    const { correct, split } = judge(task, episode.text, episode.sample.sample.gold);
    const info = episode.rewardInfo['saliency'] as SaliencyRewardInfo | undefined;
    const spans = info?.spans ?? splitCompletionIds(tokenizer, episode.completionIds, split);
    const mode = withModes ? classifyReasoningMode(episode.text.slice(...split.cotRange)) : null;
    return { episode, correct, split, spans, fit: info?.fit ?? null, mode };
  });
}

/**
 * Rollout metrics of a step: `accuracy`, `cot_tokens/mean`, and with modes `modes/<label>` (share
 * of the step's rollouts in each reasoning mode).
 */
export function rolloutMetrics(judged: readonly JudgedEpisode[]): Record<string, number> {
  const n = Math.max(1, judged.length);
  const out: Record<string, number> = {
    accuracy: judged.filter((j) => j.correct).length / n,
    'cot_tokens/mean': judged.reduce((s, j) => s + j.spans.cotEnd, 0) / n,
  };
  if (judged.length > 0 && judged[0]!.mode !== null) {
    for (const label of MODE_LABELS)
      out[`modes/${label}`] = judged.filter((j) => j.mode === label).length / n;
  }
  return out;
}

const finiteOr = (x: number, fallback: number): number => (Number.isFinite(x) ? x : fallback);

/** The sample-log records of a step (one per episode). */
export function sampleRecords(
  step: number,
  tokenizer: Tokenizer,
  judged: readonly JudgedEpisode[],
): WithoutVersion<SampleRecord>[] {
  return judged.map(({ episode: e, correct, split, spans, fit, mode }) => {
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
      completionIndex: e.generation,
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
      ...(mode === null ? {} : { mode }),
      tokens,
      ...(fit
        ? {
            saliency: {
              H: fit.h,
              reward: finiteOr(e.rewards['saliency'] ?? Number.NaN, 0),
              ceNoBias: fit.ceNoBias,
              ceInitial: fit.ceInitial,
              ceFinal: fit.ceFinal,
              fitSteps: fit.steps,
            },
          }
        : {}),
    };
  });
}
