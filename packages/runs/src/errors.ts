// Typed errors for the run-directory format. Every error has a stable `code`.

/** Stable error codes thrown by `@atmanrl/runs`. */
export type RunsErrorCode =
  | 'INVALID_RECORD'
  | 'INVALID_JSON'
  | 'LOCKED'
  | 'NEWER_VERSION'
  | 'NOT_FOUND'
  | 'RUN_EXISTS'
  | 'WRITE_FAILED';

/** Error thrown by `@atmanrl/runs`; `file` and `line` locate bad input when known. */
export class RunsError extends Error {
  /** Stable machine-readable code. */
  readonly code: RunsErrorCode;
  /** File the problem was found in, relative to the run directory when possible. */
  readonly file: string | undefined;
  /** 1-based line number in `file`, for JSONL input. */
  readonly line: number | undefined;

  constructor(
    code: RunsErrorCode,
    message: string,
    where: { file?: string; line?: number; cause?: unknown } = {},
  ) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'RunsError';
    this.code = code;
    this.file = where.file;
    this.line = where.line;
  }
}
