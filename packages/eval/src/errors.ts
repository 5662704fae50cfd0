// The error class of @atmanrl/eval: every thrown error carries a stable `code`.

/** Stable error codes of @atmanrl/eval. */
export type EvaluationErrorCode = 'BAD_ARGUMENT' | 'NO_TOKENIZER' | 'BAD_REPORT';

/** An error thrown by @atmanrl/eval; `code` is stable, the message says what to fix. */
export class EvaluationError extends Error {
  readonly code: EvaluationErrorCode;
  constructor(code: EvaluationErrorCode, message: string) {
    super(message);
    this.name = 'EvaluationError';
    this.code = code;
  }
}
