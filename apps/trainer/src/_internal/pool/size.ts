// How many worker threads a run starts: never more than the jobs of a step (a thread without a
// job still loads a model copy and holds its memory), and a warning when more threads than cores
// are asked for (they share the cores, so a step gets slower, not faster). Issue 35.

/** Inputs of {@link planWorkers}. */
export interface WorkerPlanInput {
  /** `--workers` as given (null: not given). */
  requested: number | null;
  /** Workers when not given (e.g. every core on the CPU backends). */
  fallback: number;
  /** The most jobs one batch of a step has (generate and fit jobs: one per prompt of the step). */
  jobsPerBatch: number;
  /** Cores of this machine (`os.availableParallelism()`). */
  cores: number;
}

/** What {@link planWorkers} decided: the worker count to start and the lines to print. */
export interface WorkerPlan {
  workers: number;
  /** Warnings (`--workers` above the cores) and notes (capped at the jobs), one line each. */
  messages: string[];
}

/**
 * The worker threads to start: the requested (or fallback) count capped at `jobsPerBatch`, with a
 * note when capped and a warning when the requested count is above `cores`. Results do not depend
 * on the worker count, so the cap changes only memory and time.
 */
export function planWorkers(input: WorkerPlanInput): WorkerPlan {
  const wanted = input.requested ?? input.fallback;
  const jobs = Math.max(1, input.jobsPerBatch);
  const workers = Math.max(0, Math.min(wanted, jobs));
  const messages: string[] = [];
  if (input.requested !== null && input.requested > input.cores) {
    messages.push(
      `--workers ${input.requested} is more than this machine's ${input.cores} cores: the threads share the cores, so a step gets slower and each holds its own model copy in memory; use --workers ${input.cores} or fewer`,
    );
  }
  if (wanted > jobs) {
    messages.push(
      `${input.requested === null ? `the default of ${wanted} workers` : `--workers ${wanted}`} is more than the ${jobs} job${jobs === 1 ? '' : 's'} of a step (one per prompt), so ${workers} worker${workers === 1 ? '' : 's'} ${workers === 1 ? 'is' : 'are'} started`,
    );
  }
  return { workers, messages };
}
