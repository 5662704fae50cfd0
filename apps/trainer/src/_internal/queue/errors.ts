// The one error class of the Redis job queue; every throw carries a stable `code` (and the job it
// concerns when there is one), so the CLI can report it in one paragraph and exit 1.

/** Stable codes of {@link QueueError}. */
export type QueueErrorCode =
  /** `--queue` is not a redis:// or rediss:// URL. */
  | 'BAD_QUEUE_URL'
  /** Redis could not be reached for longer than `--queue-timeout`. */
  | 'REDIS_UNAVAILABLE'
  /** No worker was connected for longer than `--queue-timeout` while jobs waited. */
  | 'NO_WORKERS'
  /** A job record failed its schema (on the worker): it is failed, never run. */
  | 'BAD_JOB'
  /** A result failed its schema (on the trainer): the step is not written. */
  | 'BAD_RESULT'
  /** Trainer and worker speak different queue protocol versions. */
  | 'PROTOCOL_MISMATCH'
  /** A job of a trainer that is gone (its run has a newer session): discarded, never run. */
  | 'STALE_JOB'
  /** The weights fetched do not hash to the version asked for. */
  | 'WEIGHTS_HASH_MISMATCH'
  /** A weights version is in no store the worker can reach. */
  | 'WEIGHTS_MISSING'
  /** A job failed on its worker (the job's own error). */
  | 'JOB_FAILED'
  /** The queue client was closed. */
  | 'QUEUE_CLOSED';

/** Error of the Redis job queue; `code` is stable, `jobId` names the job when there is one. */
export class QueueError extends Error {
  /** Stable machine-readable code. */
  readonly code: QueueErrorCode;
  /** The queue job this error concerns, if any. */
  readonly jobId: string | undefined;

  constructor(
    code: QueueErrorCode,
    message: string,
    options: { jobId?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QueueError';
    this.code = code;
    this.jobId = options.jobId;
  }
}
