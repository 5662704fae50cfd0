// Error type of this package: every failure carries a stable `code` callers can branch on.

/** Stable error codes thrown by `@atmanrl/attention-mask`. */
export type AttentionMaskErrorCode =
  | 'SHAPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'BACKEND_UNAVAILABLE'
  | 'UNKNOWN_BACKEND'
  /** The backend could not allocate memory for an op (wasm heap or XNNPACK); the op's result is discarded. */
  | 'BACKEND_OUT_OF_MEMORY'
  /** A backend kernel reported a failure (e.g. an XNNPACK status other than out-of-memory). */
  | 'BACKEND_KERNEL_FAILED';

/** Error thrown for bad input shapes/options or an unavailable backend; `code` is stable. */
export class AttentionMaskError extends Error {
  /** Stable, machine-readable error code. */
  readonly code: AttentionMaskErrorCode;

  /**
   * @param code stable error code
   * @param message what happened, what was expected and how to fix it
   * @param options standard `ErrorOptions` (e.g. `cause`)
   */
  constructor(code: AttentionMaskErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AttentionMaskError';
    this.code = code;
  }
}
