// Stop signals of a training run: the first SIGINT, SIGTERM or SIGHUP (terminal closed) asks the
// loop to finish the current step, checkpoint and exit 0 as `interrupted`; a second one says so
// and force-quits at once (status `interrupted`, lock released, no new checkpoint).
import type { CliIO } from '../cli-core.js';

/** The signals that stop a run. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** One of {@link STOP_SIGNALS}. */
export type StopSignal = (typeof STOP_SIGNALS)[number];

const SIGNAL_NUMBER: Record<StopSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Options of {@link createStopHandler}. */
export interface StopHandlerOptions {
  /** Called on the second signal before exiting (mark the run, release its lock); must be sync. */
  onForceQuit?: (signal: StopSignal) => void;
  /** Describes the last checkpoint for the force-quit message. */
  lastCheckpoint?: () => string;
  /** Process exit, for tests (default `process.exit`). */
  exit?: (code: number) => void;
}

/** Writes to stderr, ignoring a closed terminal (after SIGHUP a write may fail). */
function say(io: CliIO, line: string): void {
  try {
    io.err(line);
  } catch {
    // the terminal is gone; the run still checkpoints
  }
}

/**
 * The handler behind {@link installStopSignals}: first call sets `control.stop`, the second
 * force-quits with exit code 128 + the signal's number.
 */
export function createStopHandler(
  control: { stop: boolean },
  io: CliIO,
  options: StopHandlerOptions = {},
): (signal: StopSignal) => void {
  let count = 0;
  return (signal) => {
    count++;
    if (count === 1 && !control.stop) {
      control.stop = true;
      say(
        io,
        `atmanrl: ${signal} received: finishing this step, then checkpointing. Press Ctrl+C again to quit at once without a checkpoint.`,
      );
      return;
    }
    say(
      io,
      `atmanrl: second stop signal (${signal}): quitting now without saving this step; ${options.lastCheckpoint?.() ?? 'resume from the last checkpoint'}.`,
    );
    try {
      options.onForceQuit?.(signal);
    } finally {
      (options.exit ?? ((c: number) => process.exit(c)))(128 + SIGNAL_NUMBER[signal]);
    }
  };
}

/** Installs the stop handlers on SIGINT, SIGTERM and SIGHUP; `remove()` uninstalls them. */
export function installStopSignals(
  control: { stop: boolean },
  io: CliIO,
  options: StopHandlerOptions = {},
): { remove(): void } {
  const handler = createStopHandler(control, io, options);
  const listeners = STOP_SIGNALS.map((s) => [s, () => handler(s)] as const);
  for (const [s, l] of listeners) process.on(s, l);
  return {
    remove: () => {
      for (const [s, l] of listeners) process.off(s, l);
    },
  };
}
