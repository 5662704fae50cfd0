// @atmanrl/saliency: public face (named re-exports only).
export type { AdamWConfig, AdamWState } from '@atmanrl/model';
export { adamWStep, initAdamW } from '@atmanrl/model';
export type { AtmanRewardFn, AtmanRewardInfo, AtmanRewardOptions } from './atman-reward.js';
export { createAtmanReward } from './atman-reward.js';
export type {
  CompletionSpans,
  SpanKind,
  SpanToken,
  SplitTokenizer,
  TextSplit,
} from './completion-split.js';
export {
  saliencyItemFromSpans,
  spanTokens,
  splitCompletionIds,
  tokenTextEnds,
} from './completion-split.js';
export type { TokenDecoder } from './display.js';
export { displayTokens } from './display.js';
export type { SaliencyErrorCode } from './errors.js';
export { SaliencyError } from './errors.js';
export type { FitSaliencyOptions, FitStepInfo } from './fit.js';
export { fitSaliencyMasks } from './fit.js';
export { FIT_PRESETS, type FitPreset, type FitPresetName, fitPreset } from './fit-presets.js';
export { gradientXInputSaliency } from './gradient.js';
export type { LengthPenaltyFn, LengthPenaltyInfo, LengthPenaltyOptions } from './length-penalty.js';
export { createLengthPenalty, lengthPenalty } from './length-penalty.js';
export type { Logger } from './logger.js';
export { maskStatistic, relevanceFromTheta } from './relevance.js';
export type { SaliencyRewardDirection, SaliencyRewardOptions } from './reward.js';
export { saliencyReward } from './reward.js';
export type { RewardCost } from './reward-cost.js';
export type {
  RewardCallContext,
  RewardCompletion,
  SaliencyRewardFn,
  SaliencyRewardFnOptions,
  SaliencyRewardInfo,
} from './reward-fn.js';
export { createSaliencyReward } from './reward-fn.js';
export { averageRanks, spearman } from './spearman.js';
export type { SweepOptions } from './sweep.js';
export { atmanSaliency, occlusionSaliency } from './sweep.js';
export type {
  TruncationRewardFn,
  TruncationRewardInfo,
  TruncationRewardOptions,
} from './truncation-reward.js';
export {
  createTruncationReward,
  DEFAULT_TRUNCATION_FRACTIONS,
  keptTokenCounts,
  truncationRewardValue,
} from './truncation-reward.js';
export type {
  DisplayToken,
  MaskFitResult,
  SaliencyItem,
  SaliencyMap,
  SaliencyMethod,
} from './types.js';
