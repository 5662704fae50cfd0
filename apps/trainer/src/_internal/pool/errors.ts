// The one error class of the worker pool; every throw carries a stable `code` and names the job
// (id and items) it concerns, so a failed step can be reported and resumed. A job that runs out
// of backend memory is the user's to fix (smaller passes), so it is raised as a UsageError
// (exit 1) with the options that fix it, not as an internal error.
import { UsageError } from '../../errors.js';
import { describeJob, type Job } from './jobs.js';

/** Stable codes of {@link PoolError}. */
export type PoolErrorCode =
  /** A worker died (uncaught exception, out of memory, `process.exit`, killed) while busy. */
  | 'WORKER_CRASHED'
  /** A job threw inside its worker (the worker survives; the message is the job's error). */
  | 'JOB_FAILED'
  /** A worker could not start (backend, model folder). */
  | 'WORKER_START_FAILED'
  /** The compiled worker script could not be found. */
  | 'WORKER_NOT_FOUND'
  /** A job was submitted before `setWeights`, or with a stale weights version. */
  | 'NO_WEIGHTS'
  /** The weights sent do not fit the worker's model (variable count or shape). */
  | 'WEIGHTS_MISMATCH'
  /** The pool was disposed, or an earlier crash stopped it. */
  | 'POOL_CLOSED'
  | 'BAD_ARGUMENT';

/** Error of the worker pool; `code` is stable, `jobId` names the job when there is one. */
export class PoolError extends Error {
  /** Stable machine-readable code. */
  readonly code: PoolErrorCode;
  /** The job this error concerns, if any. */
  readonly jobId: string | undefined;

  constructor(
    code: PoolErrorCode,
    message: string,
    options: { jobId?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PoolError';
    this.code = code;
    this.jobId = options.jobId;
  }
}

/** Error codes of the backends for an exhausted memory (the wasm heap, a GPU allocation). */
const OUT_OF_MEMORY_CODES: ReadonlySet<string> = new Set(['BACKEND_OUT_OF_MEMORY']);

/** True when a job's error code says its backend ran out of memory. */
export function isOutOfMemoryCode(code: unknown): boolean {
  return typeof code === 'string' && OUT_OF_MEMORY_CODES.has(code);
}

/**
 * The user error for a job that ran out of backend memory: names the job and the backend's
 * message, says the step was not written, and the options that shrink that job's passes (all of
 * which may change on `--resume`).
 */
export function jobOutOfMemory(
  job: Job,
  name: string,
  code: string,
  message: string,
  cause?: unknown,
): UsageError {
  const fix =
    job.kind === 'generate'
      ? `generate fewer completions per pass with --generation-batch-size (e.g. ${Math.max(1, Math.floor(job.numGenerations / 2))}; the completions do not change), or shorten the prompts (--max-prompt-length) or completions (--max-completion-length) of a new run`
      : 'fit fewer tokens per pass with --max-tokens-per-micro-batch (e.g. half the padded length of a group) or recompute activations with --recompute; the masks do not change';
  return new UsageError(
    'BAD_CONFIG',
    `${describeJob(job)} ran out of memory: ${name} ${code}: ${message}. The step was not written. Resume from the last checkpoint (atmanrl train --resume <run>) and ${fix}. On a CPU backend, fewer --workers also lowers the total memory (each worker holds its own model and heap).`,
    cause === undefined ? undefined : { cause },
  );
}
