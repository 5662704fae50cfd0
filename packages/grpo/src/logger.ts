// The logging interface this library accepts (it never calls `console`).

/** Minimal logger; pass `console` in an app, or a collector in tests. */
export interface Logger {
  /** Informational message. */
  info(message: string): void;
  /** Something the user should look at, but not an error. */
  warn(message: string): void;
}
