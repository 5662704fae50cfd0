// Typed errors of the CLI. A UsageError is the user's to fix (exit 1, message + usage); anything
// else is an internal error (exit 2).

/** Stable codes of user-facing CLI errors. */
export type TrainerErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_FLAG'
  | 'UNKNOWN_COMMAND'
  | 'MODEL_NOT_FOUND'
  | 'NO_CHAT_TEMPLATE'
  | 'DATA_NOT_FOUND'
  | 'RESUME_FAILED'
  | 'NON_FINITE_LOSS';

/** An error the user can fix; printed as one paragraph, exit code 1, no stack trace. */
export class UsageError extends Error {
  /** Stable machine-readable code. */
  readonly code: TrainerErrorCode;
  constructor(code: TrainerErrorCode, message: string) {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}
