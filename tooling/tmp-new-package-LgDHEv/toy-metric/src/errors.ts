// Typed errors of @atmanrl/toy-metric: one class with a stable `code`.

/** Stable machine-readable error codes thrown by `@atmanrl/toy-metric`. */
export type ToyMetricErrorCode = 'INVALID_ARGUMENT'; // an option out of range or of the wrong kind

/** The only error class `@atmanrl/toy-metric` throws; `code` is stable across versions. */
export class ToyMetricError extends Error {
  /** Stable machine-readable code. */
  readonly code: ToyMetricErrorCode;

  /**
   * @param code stable code
   * @param message what happened, what was expected and how to fix it
   * @param options.cause the underlying error, if any
   */
  constructor(code: ToyMetricErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ToyMetricError';
    this.code = code;
  }
}
