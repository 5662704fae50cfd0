// The logger the Node half accepts (libraries never call console themselves).

/** Receives the server's notices; pass `console` to print them. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { info() {}, warn() {} };
