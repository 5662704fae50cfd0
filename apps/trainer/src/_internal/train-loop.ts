// The GRPO training loop shared by `train`, `demo` and `experiment`, in the shape of GRPO-Zero's
// train.py: open the run (model, pool, writer: train-run.ts), then per step trainStep -> eval ->
// log -> checkpoint (train-step.ts). Exact resume restores weights, optimizer moments, RNG state,
// data cursor and step (trainer_state.json).
import type { CliIO } from '../cli-core.js';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { nonFiniteStop } from './finite.js';
import { WorkerPool } from './pool/index.js';
import { installStopSignals } from './signals.js';
import { openRun } from './train-run.js';
import { evalStep, logStep, saveStep, trainStep } from './train-step.js';

export {
  defaultWorkers,
  grpoOptions,
  orderedBatch,
  stepsForEpochs,
  truncatePrompt,
} from './train-options.js';
export { completionLines } from './train-step.js';

/** How a training run ended. */
export interface TrainOutcome {
  runDir: string;
  runId: string;
  status: 'finished' | 'interrupted';
  lastStep: number;
  /** Metrics of every step run in this process, in order. */
  metrics: Record<string, number>[];
}

/** Options beyond the config. */
export interface TrainLoopOptions {
  command: string;
  /** Set `stop = true` to checkpoint and stop after the current step (SIGINT/SIGTERM do this). */
  control?: { stop: boolean };
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  /** Config keys the user set explicitly (for `--resume`). */
  explicit?: ReadonlySet<string>;
}

/** Runs (or resumes) GRPO training as configured. */
export async function runTraining(
  given: RunConfig,
  io: CliIO,
  options: TrainLoopOptions,
): Promise<TrainOutcome> {
  const run = await openRun(given, io, options);
  const { config, writer, state, pool } = run;
  const control = options.control ?? { stop: false };
  // SIGINT/SIGTERM/SIGHUP: checkpoint after this step; a second one force-quits (signals.ts).
  const signals =
    (options.handleSignals ?? true)
      ? installStopSignals(control, io, {
          lastCheckpoint: () =>
            state.lastSaved > 0
              ? `the last checkpoint is step ${state.lastSaved}`
              : 'no checkpoint was saved',
          onForceQuit: () => writer.setStatus('interrupted', 'force-quit by a second stop signal'),
        })
      : null;
  const metrics: Record<string, number>[] = [];
  const outcome = (status: TrainOutcome['status']): TrainOutcome => {
    const [runDir, runId, lastStep] = [writer.dir, writer.id, state.step];
    return { runDir, runId, status, lastStep, metrics };
  };
  try {
    if (!(pool instanceof WorkerPool)) {
      // --queue: Redis reached (or --queue-timeout); workers may join and leave at any time.
      await pool.ready();
      const w = pool.workers;
      io.out(
        `queue: ${pool.url.redacted}, ${w.length} workers connected now (${w.reduce((s, x) => s + x.concurrency, 0)} slots); jobs wait for workers up to --queue-timeout ${config.queueTimeout} s`,
      );
    } else if (!pool.inProcess) {
      // The workers' own report of what they run with (their backend, --recompute).
      await pool.ready();
      const w = pool.workerSettings;
      io.out(
        `pool: ${w.length} worker threads on ${w[0]?.backend ?? run.backend}${w.every((x) => x.recompute) ? ', recomputing activations' : ''}`,
      );
    }
    while (state.step < config.maxSteps) {
      const step = await trainStep(run, config);
      await evalStep(run, config, step);
      await logStep(run, config, step);
      metrics.push(step.metrics);
      // Let pending signal handlers run: tfjs reads resolve as microtasks, so without a macrotask
      // turn a SIGINT would only be seen after the last step.
      await new Promise<void>((r) => setImmediate(r));
      await saveStep(run, config, control.stop);
      if (control.stop && state.step < config.maxSteps) {
        writer.setStatus('interrupted');
        io.out(
          `interrupted at step ${state.step}; checkpoint saved. Resume with: atmanrl train --resume ${writer.dir}`,
        );
        return outcome('interrupted');
      }
    }
    writer.setStatus('finished');
    io.out(
      `finished ${state.step} steps. Open the run in the viewer: atmanrl view ${config.runsDir} ${writer.id}  (in this repository: pnpm viewer ${config.runsDir} ${writer.id})`,
    );
    return outcome('finished');
  } catch (e) {
    const stop = nonFiniteStop(e, state.currentStep, writer.dir, state.lastSaved) ?? e;
    if ((stop !== e || !(e instanceof UsageError)) && writer.info.status === 'running') {
      try {
        writer.setStatus('failed', (stop as Error).message);
      } catch {
        // e.g. a full disk: report the original error, not this one
      }
    }
    throw stop;
  } finally {
    signals?.remove();
    await run.close();
  }
}
