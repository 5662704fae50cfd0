// Typed errors of @atmanrl/grpo: one class, a stable machine-readable `code` per failure kind.

/** Stable error codes thrown by this package. */
export type GrpoErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'BAD_REWARD'
  | 'BAD_STATE'
  | 'DISPOSED'
  /** A loss or gradient norm was NaN/Inf; the update was not applied. */
  | 'NON_FINITE';

/**
 * Error thrown by `@atmanrl/grpo`. The message says what happened, what was expected and how to
 * fix it; `code` is stable and safe to branch on.
 */
export class GrpoError extends Error {
  /** Stable code, e.g. `BAD_CONFIG`. */
  readonly code: GrpoErrorCode;
  /** The config option the error concerns (a `GrpoConfig` key), for `BAD_CONFIG`. */
  readonly option: string | undefined;
  constructor(
    code: GrpoErrorCode,
    message: string,
    options: { cause?: unknown; option?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GrpoError';
    this.code = code;
    this.option = options.option;
  }
}
