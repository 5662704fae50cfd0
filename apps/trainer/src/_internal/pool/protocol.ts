// Messages between the pool (main thread) and its workers. Every message is a plain record that
// survives structured cloning; weights travel as a SharedArrayBuffer. Leaves out the logic.
import type { BackendName } from '@atmanrl/attention-mask/node';
import type { Job, JobResult } from './jobs.js';
import type { PackedWeights } from './weights.js';

/** Test-only ways to make a worker die on a given job (exercise the pool's crash handling). */
export interface CrashHook {
  /** The job that triggers the crash. */
  jobId: string;
  /**
   * `exit`: process.exit(3); `throw`: an uncaught exception; `oom`: exhaust the JS heap;
   * `backend-oom`: the job throws the backend's out-of-memory error (`BACKEND_OUT_OF_MEMORY`, as
   * the wasm guard raises it; the worker survives).
   */
  mode: 'exit' | 'throw' | 'oom' | 'backend-oom';
}

/** `workerData` of a pool worker. */
export interface WorkerInit {
  /** The worker's slot: where it marks the job it runs in a batch's shared claims. */
  index: number;
  modelDir: string;
  backend: BackendName;
  /** Activation recomputation in the worker's model (`LlamaModel.recompute`; default false). */
  recompute?: boolean;
  crash?: CrashHook;
}

/** Main thread to worker. */
export type ToWorker =
  | { type: 'weights'; weights: PackedWeights }
  /**
   * A batch of jobs every worker receives; each claims jobs from `claims` (Int32: `[0]` next job,
   * `[1 + index]` 1 + the job this worker runs, 0 between jobs) until none is left, then answers
   * `batch-done`.
   */
  | { type: 'batch'; batch: number; jobs: readonly Job[]; claims: SharedArrayBuffer }
  | { type: 'memory' };

/** Worker to main thread. */
export type FromWorker =
  | { type: 'ready'; backend: string; recompute: boolean }
  | { type: 'start-error'; message: string }
  | { type: 'weights-done'; version: number }
  | { type: 'weights-error'; version: number; message: string }
  | { type: 'result'; batch: number; index: number; result: JobResult }
  | {
      type: 'job-error';
      batch: number;
      index: number;
      id: string;
      name: string;
      code?: string;
      message: string;
    }
  | { type: 'batch-done'; batch: number }
  | { type: 'memory'; numTensors: number };
