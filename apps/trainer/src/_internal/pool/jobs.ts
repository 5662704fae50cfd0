// The pool's unit of work: plain serialisable job records (no tensors, no functions) and the two
// job functions that run them on a model, the same code in a worker and in-process. Leaves out
// scheduling (pool.ts) and the weights transport (weights.ts).
import { readFileSync } from 'node:fs';
import { InProcessRolloutEngine, type Rollout } from '@atmanrl/grpo';
import { type CausalLM, createRng } from '@atmanrl/model';
import {
  type FitSaliencyOptions,
  fitSaliencyMasks,
  type MaskFitResult,
  type SaliencyItem,
} from '@atmanrl/saliency';

/** Sampling settings of a {@link GenerateJob} (the `RolloutRequest` fields that cross the seam). */
export interface JobSampling {
  maxCompletionLength: number;
  temperature: number;
  /** Nucleus threshold (1 or absent = off). */
  topP?: number;
  /** Top-k (0 or absent = off). */
  topK?: number;
  eosTokenIds?: number[];
  stopStrings?: string[];
}

/** `FitSaliencyOptions` without the callbacks (`onStep`, `logger`), so it can cross a thread. */
export type SerialisableFitOptions = Omit<FitSaliencyOptions, 'onStep' | 'logger'>;

/**
 * Sample `numGenerations` completions for each of a few prompts, from a fresh RNG seeded by
 * `seed`, on the weights of version `weightsVersion`.
 */
export interface GenerateJob {
  kind: 'generate';
  /** Unique within the pool's life; named in errors. */
  id: string;
  weightsVersion: number;
  /** The job's prompts (token ids); rows are prompt-major, G per prompt. */
  promptIds: number[][];
  numGenerations: number;
  sampling: JobSampling;
  /** Seed of the job's own RNG (`createRng(seed)`), drawn by the caller in job order. */
  seed: number;
  /** Index of the job's first prompt in the caller's batch (for error messages). */
  offset: number;
}

/** Fit one AtManRL mask per item on the frozen weights of version `weightsVersion`. */
export interface FitJob {
  kind: 'fit';
  id: string;
  weightsVersion: number;
  items: SaliencyItem[];
  options: SerialisableFitOptions;
  /** Index of the job's first item in the caller's batch (for error messages). */
  offset: number;
}

/** Any job the pool runs. */
export type Job = GenerateJob | FitJob;

/** What a job returns: `Rollout[]` (promptIndex relative to the job) or `MaskFitResult[]`. */
export type JobValue<J extends Job> = J extends GenerateJob ? Rollout[] : MaskFitResult[];

/** A job's value and how long it kept its worker busy. */
export interface JobResult<J extends Job = Job> {
  id: string;
  value: JobValue<J>;
  /** Wall time the job ran in its worker (ms), weights loading excluded. */
  busyMs: number;
  /**
   * CPU time of the thread that ran the job (ms, 10 ms ticks; Linux only, else null). Unlike
   * `busyMs` it does not grow when other processes compete for the cores.
   */
  cpuMs: number | null;
}

/** CPU time (user + system) of the calling thread in ms, from /proc/thread-self/stat; null elsewhere. */
export function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

/** "generate job g-3 (prompt 3 of the batch)" - how errors name a job and its items. */
export function describeJob(job: Job): string {
  const n = job.kind === 'generate' ? job.promptIds.length : job.items.length;
  const noun = job.kind === 'generate' ? 'prompt' : 'item';
  const range = n === 1 ? `${noun} ${job.offset}` : `${noun}s ${job.offset}..${job.offset + n - 1}`;
  return `${job.kind} job ${job.id} (${range} of the batch, weights version ${job.weightsVersion})`;
}

/**
 * Runs a generate job: the job's prompts repeated G times (prompt-major), one `generate` call,
 * one fresh RNG. Element `p*G + g` is completion g of the job's prompt p.
 */
export async function runGenerateJob(model: CausalLM, job: GenerateJob): Promise<Rollout[]> {
  // The in-process engine of @atmanrl/grpo, with the job's own RNG stream.
  const s = job.sampling;
  return new InProcessRolloutEngine(model).generate({
    promptIds: job.promptIds,
    numGenerations: job.numGenerations,
    maxCompletionLength: s.maxCompletionLength,
    temperature: s.temperature,
    rng: createRng(job.seed),
    ...(s.topP !== undefined ? { topP: s.topP } : {}),
    ...(s.topK !== undefined ? { topK: s.topK } : {}),
    ...(s.stopStrings ? { stopStrings: s.stopStrings } : {}),
    ...(s.eosTokenIds ? { eosTokenIds: s.eosTokenIds } : {}),
  });
}

/** Runs a fit job: `fitSaliencyMasks` on the job's items, one result per item, in order. */
export async function runFitJob(model: CausalLM, job: FitJob): Promise<MaskFitResult[]> {
  if (job.items.length === 0) return [];
  return fitSaliencyMasks(model, job.items, job.options);
}

/** Runs any job on `model` (the frozen weights the job's version names) and times it. */
export async function runJob<J extends Job>(model: CausalLM, job: J): Promise<JobResult<J>> {
  const t0 = performance.now();
  const c0 = threadCpuMs();
  const value = (
    job.kind === 'generate' ? await runGenerateJob(model, job) : await runFitJob(model, job)
  ) as JobValue<J>;
  const c1 = threadCpuMs();
  return {
    id: job.id,
    value,
    busyMs: performance.now() - t0,
    cpuMs: c0 === null || c1 === null ? null : c1 - c0,
  };
}
