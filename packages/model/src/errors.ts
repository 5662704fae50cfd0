// Typed errors of @atmanrl/model: one class, a stable machine-readable `code` per failure kind.

/** Stable error codes thrown by this package. */
export type ModelErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_SAFETENSORS'
  | 'MISSING_TENSOR'
  | 'SHAPE_MISMATCH'
  | 'BAD_TOKENIZER'
  | 'BAD_ARGUMENT'
  | 'NO_TOKENIZER'
  | 'DEVICE_LIMIT'
  | 'IO';

/**
 * Error thrown by `@atmanrl/model`. The message says what happened, what was expected and how to
 * fix it; `code` is stable and safe to branch on.
 */
export class ModelError extends Error {
  /** Stable code, e.g. `BAD_SAFETENSORS`. */
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelError';
    this.code = code;
  }
}
