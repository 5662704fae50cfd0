// Worker time of one training step as `time/*` metrics (seconds): what the pool's workers did
// between two `takeTimes()` calls, against the step's wall time. Leaves out the phase timers
// grpoStep already reports (time/generation, time/reward/<name>, time/update).
import type { PoolTimes } from './pool.js';

/**
 * `time/worker_busy`: worker-seconds spent in jobs; `time/worker_idle`: `slots · step − busy`
 * (worker-seconds with no job, including the update, which runs on the main thread);
 * `time/worker_idle_in_batches`: idle worker-seconds inside job batches only (load imbalance);
 * `time/weights_sync`: seconds spent packing and posting weights.
 * @param times `pool.takeTimes()` taken at the end of the step
 * @param slots `pool.slots`
 * @param stepMs the step's wall time (ms)
 */
export function workerTimeMetrics(
  times: PoolTimes,
  slots: number,
  stepMs: number,
): Record<string, number> {
  return {
    'time/worker_busy': times.busyMs / 1000,
    'time/worker_idle': Math.max(0, slots * stepMs - times.busyMs) / 1000,
    'time/worker_idle_in_batches': times.idleMs / 1000,
    'time/weights_sync': times.weightsMs / 1000,
  };
}
