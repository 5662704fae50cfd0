// The worker pool's face inside the trainer: pool, jobs, adapters, errors.
export type { JobRunner, PooledFitOptions, PooledRolloutOptions } from './adapters.js';
export { PooledRolloutEngine, pooledFit } from './adapters.js';
export type { PoolErrorCode } from './errors.js';
export { PoolError } from './errors.js';
export type {
  FitJob,
  GenerateJob,
  Job,
  JobResult,
  JobSampling,
  JobValue,
  PassGenerateOptions,
  SerialisableFitOptions,
} from './jobs.js';
export { describeJob, generateInPasses, runFitJob, runGenerateJob, runJob } from './jobs.js';
export { workerTimeMetrics } from './metrics.js';
export type { PoolTimes, WorkerPoolOptions } from './pool.js';
export { findWorkerScript, WorkerPool } from './pool.js';
export type { WorkerPlan, WorkerPlanInput } from './size.js';
export { planWorkers } from './size.js';
export type { PackedWeights } from './weights.js';
export { assignWeights, packWeights } from './weights.js';
