// What the trainer calls: a RolloutEngine and a mask-fit function that cut their work into pool
// jobs. The cut depends only on the request (never on the worker count), and every generate job
// gets its own seed drawn in job order, so results are the same for any number of workers.
import {
  type Rollout,
  type RolloutEngine,
  type RolloutRequest,
  rolloutSampling,
} from '@atmanrl/grpo';
import type { FitSaliencyOptions, MaskFitResult, SaliencyItem } from '@atmanrl/saliency';
import { PoolError } from './errors.js';
import type { FitJob, GenerateJob, Job, JobResult, SerialisableFitOptions } from './jobs.js';

/**
 * What the adapters need of a pool: the current weights version, job ids and running a batch of
 * jobs (results in job order). The in-process/thread `WorkerPool` and the Redis `QueuePool`
 * (`--queue`) both implement it.
 */
export interface JobRunner {
  /** The weights version jobs run on (null before the first `setWeights`). */
  readonly weightsVersion: number | null;
  /** A fresh job id starting with `prefix`. */
  newJobId(prefix: string): string;
  /** Runs the jobs; results in job order. `onProgress` gets (jobs done, jobs total). */
  run<J extends Job>(
    jobs: readonly J[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<JobResult<J>[]>;
}

function currentVersion(pool: JobRunner, what: string): number {
  const v = pool.weightsVersion;
  if (v === null) {
    throw new PoolError(
      'NO_WEIGHTS',
      `${what}: the pool has no weights yet; call pool.setWeights(version, policy) first`,
    );
  }
  return v;
}

function checkChunk(what: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new PoolError('BAD_ARGUMENT', `${what}: ${name} = ${n}; expected a positive integer`);
  }
}

/** Options of {@link PooledRolloutEngine}. */
export interface PooledRolloutOptions {
  /** Prompts per generate job (default 1: one job per group of G completions). */
  promptsPerJob?: number;
  /** Called as jobs finish: (jobs done, jobs total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Completions per generation pass inside a job (`--generation-batch-size`; default: all of the
   * job's rows at once). Bounds a pass's memory; the rollouts do not depend on it (on cpu, bit for
   * bit), so it may change when a run resumes.
   */
  generationBatchSize?: number;
}

/**
 * A {@link RolloutEngine} on a {@link JobRunner} (a `WorkerPool` or the `--queue` pool): one
 * generate job per `promptsPerJob` prompts, each seeded by `request.rng.nextUint32()` in job order (so `request.rng` advances by one draw
 * per job and a run resumes exactly), run on the pool's current weights version. Element
 * `p*G + g` is completion g of prompt p, as the seam requires.
 */
export class PooledRolloutEngine implements RolloutEngine {
  constructor(
    private readonly pool: JobRunner,
    private readonly options: PooledRolloutOptions = {},
  ) {
    checkChunk('PooledRolloutEngine', 'promptsPerJob', options.promptsPerJob ?? 1);
    if (options.generationBatchSize !== undefined)
      checkChunk('PooledRolloutEngine', 'generationBatchSize', options.generationBatchSize);
  }

  async generate(request: RolloutRequest): Promise<Rollout[]> {
    const g = request.numGenerations;
    const what = 'PooledRolloutEngine.generate';
    if (!Number.isInteger(g) || g < 1) {
      throw new PoolError(
        'BAD_ARGUMENT',
        `${what}: numGenerations = ${g}; expected a positive integer`,
      );
    }
    if (request.promptIds.length === 0)
      throw new PoolError('BAD_ARGUMENT', `${what}: no prompts given`);
    const version = currentVersion(this.pool, what);
    const per = this.options.promptsPerJob ?? 1;
    const sampling = rolloutSampling(request);
    const jobs: GenerateJob[] = [];
    for (let start = 0; start < request.promptIds.length; start += per) {
      jobs.push({
        kind: 'generate',
        id: this.pool.newJobId('generate'),
        weightsVersion: version,
        promptIds: request.promptIds.slice(start, start + per).map((p) => [...p]),
        numGenerations: g,
        sampling,
        seed: request.rng.nextUint32(),
        offset: start,
        ...(this.options.generationBatchSize !== undefined
          ? { rowsPerPass: this.options.generationBatchSize }
          : {}),
      });
    }
    const results = await this.pool.run(jobs, this.options.onProgress);
    return results.flatMap((r, j) =>
      r.value.map((roll) => ({ ...roll, promptIndex: roll.promptIndex + jobs[j]!.offset })),
    );
  }
}

/** Options of {@link pooledFit}: `FitSaliencyOptions` without callbacks, plus the job size. */
export interface PooledFitOptions extends SerialisableFitOptions {
  /**
   * Items per fit job (default 4). Fixes the partition, so results do not depend on the worker
   * count; larger jobs batch better, smaller ones balance better (e.g. one group of G).
   */
  itemsPerJob?: number;
  /** Called as jobs finish: (jobs done, jobs total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * `fitSaliencyMasks(policy, items, options)` on the pool: the same fit, on the frozen weights of
 * the pool's current version, cut into jobs of `itemsPerJob` items. One result per item, in order.
 * Items are fitted independently (fit.ts), so the cut changes results only by float rounding of
 * differently padded batches, and not at all between worker counts.
 */
export async function pooledFit(
  pool: JobRunner,
  items: readonly SaliencyItem[],
  options: PooledFitOptions = {},
): Promise<MaskFitResult[]> {
  // onStep/logger cannot cross a thread; drop them if a caller spread full FitSaliencyOptions in.
  const {
    itemsPerJob = 4,
    onProgress,
    onStep: _onStep,
    logger: _logger,
    ...fit
  } = options as PooledFitOptions & Pick<FitSaliencyOptions, 'onStep' | 'logger'>;
  checkChunk('pooledFit', 'itemsPerJob', itemsPerJob);
  const version = currentVersion(pool, 'pooledFit');
  const jobs: FitJob[] = [];
  for (let start = 0; start < items.length; start += itemsPerJob) {
    jobs.push({
      kind: 'fit',
      id: pool.newJobId('fit'),
      weightsVersion: version,
      items: items.slice(start, start + itemsPerJob).map((it) => ({
        promptIds: [...it.promptIds],
        cotIds: [...it.cotIds],
        delimiterIds: [...it.delimiterIds],
        goldAnswerIds: [...it.goldAnswerIds],
      })),
      options: fit,
      offset: start,
    });
  }
  const results = await pool.run(jobs, onProgress);
  return results.flatMap((r) => r.value);
}
