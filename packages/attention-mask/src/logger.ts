// The logging interface libraries of this project accept (they never call `console`).

/** Minimal logger; pass `console` in an app, or a collector in tests. */
export interface Logger {
  /** Informational message (e.g. which backend was chosen). */
  info(message: string): void;
  /** Something the user should look at, but not an error. */
  warn(message: string): void;
}
