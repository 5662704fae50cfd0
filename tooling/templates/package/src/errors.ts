// Typed errors of __PACKAGE__: one class with a stable `code`.

/** Stable machine-readable error codes thrown by `__PACKAGE__`. */
export type __ERROR__Code = 'INVALID_ARGUMENT'; // an option out of range or of the wrong kind

/** The only error class `__PACKAGE__` throws; `code` is stable across versions. */
export class __ERROR__ extends Error {
  /** Stable machine-readable code. */
  readonly code: __ERROR__Code;

  /**
   * @param code stable code
   * @param message what happened, what was expected and how to fix it
   * @param options.cause the underlying error, if any
   */
  constructor(code: __ERROR__Code, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = '__ERROR__';
    this.code = code;
  }
}
