// The logger shape libraries in this project accept (they never call console).

/** Receives progress and warnings. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}
