// The one error class of the worker pool; every throw carries a stable `code` and names the job
// (id and items) it concerns, so a failed step can be reported and resumed.

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
