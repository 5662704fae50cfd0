// @atmanrl/grpo: public face (named re-exports only).
export type { AdvantageOptions, AdvantageResult } from './advantages.js';
export { groupAdvantages } from './advantages.js';
export type {
  GrpoConfig,
  GrpoConfigInput,
  ImportanceSamplingLevel,
  LossType,
  LrSchedulerType,
  MultiObjectiveAggregation,
  ScaleRewards,
} from './config.js';
export { GRPO_DEFAULTS, resolveGrpoConfig } from './config.js';
export type { Episode } from './episode.js';
export { episodesFromRollouts, recordAdvantages, recordRewards } from './episode.js';
export type { GrpoErrorCode } from './errors.js';
export { GrpoError } from './errors.js';
export { k3Kl } from './kl.js';
export type { Logger } from './logger.js';
export type { PolicyLossInputs, PolicyLossOptions } from './loss.js';
export { perTokenPolicyLoss, policyLoss, policyLossStats } from './loss.js';
export type { GrpoMetrics, StepMetricInputs } from './metrics.js';
export { buildStepMetrics } from './metrics.js';
export type { AdamWOptions } from './optimizer.js';
export { AdamW, clipByGlobalNorm, GradientAccumulator } from './optimizer.js';
export type {
  CombinedRewards,
  CombineOptions,
  CompletionView,
  RewardContext,
  RewardFn,
  RewardGate,
  RewardOutput,
  RewardSpec,
  ScoredCompletions,
} from './rewards.js';
export { combineRewards, scoreCompletions, whenReward } from './rewards.js';
export type {
  InProcessRolloutOptions,
  Rollout,
  RolloutEngine,
  RolloutRequest,
  RolloutSampling,
} from './rollout.js';
export { generateOptionsOf, InProcessRolloutEngine, rolloutSampling } from './rollout.js';
export type { LrScheduleOptions } from './schedule.js';
export { learningRateAt, warmupStepCount } from './schedule.js';
export type { GrpoBatch, GrpoStepOptions, GrpoStepResult } from './step.js';
export { createOptimizer, grpoStep } from './step.js';
export type {
  MicroBatchStats,
  UpdateEpisode,
  UpdateModels,
  UpdateOptions,
  UpdateStats,
} from './update.js';
export { updateLearningRate, updatePolicy } from './update.js';
