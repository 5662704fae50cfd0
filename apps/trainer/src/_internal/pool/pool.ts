// A pool of worker threads, each with its own tfjs backend and model copy, that runs serialisable
// jobs (generate, fit) on versioned frozen weights. Workers ≤ 1 runs the same job functions
// in-process. Leaves out what a job means for GRPO (adapters.ts) and any network transport.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { BackendName } from '@atmanrl/attention-mask/node';
import type { CausalLM } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import type { UsageError } from '../../errors.js';
import type { JobRunner } from './adapters.js';
import { isOutOfMemoryCode, jobOutOfMemory, PoolError } from './errors.js';
import { describeJob, type Job, type JobResult, runJob } from './jobs.js';
import type { CrashHook, FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { packWeights } from './weights.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads (≥ 0). 0 or 1 runs jobs in-process unless `inProcess: false`. */
  workers: number;
  /** Model folder the workers load the architecture and tokenizer from (weights come per version). */
  modelDir: string;
  /** tfjs backend each worker sets up (the main thread's, `tf.getBackend()`). */
  backend: BackendName;
  /**
   * Activation recomputation in the workers' models (`LlamaModel.recompute`; default false).
   * In-process jobs use the policy passed to `setWeights`, with its own setting.
   */
  recompute?: boolean;
  /** Run jobs on the main thread (default: `workers <= 1`). */
  inProcess?: boolean;
  /** Compiled worker script (default: found next to the built trainer, see {@link findWorkerScript}). */
  workerUrl?: URL | string;
  /** V8 heap limits per worker (an exhausted heap is reported as a crash of the running job). */
  resourceLimits?: ResourceLimits;
  /** Test only: make a worker die on one job. */
  crashHook?: CrashHook;
}

/** Where the pool's time went over some batches (all in ms). */
export interface PoolTimes {
  /** Wall time of the batches (first job submitted to last result). */
  wallMs: number;
  /** Sum over jobs of the time they kept a worker busy. */
  busyMs: number;
  /** `slots · wallMs − busyMs`: worker time spent waiting inside batches. */
  idleMs: number;
  /** Sum over jobs of their threads' CPU time (0 where the platform does not report it). */
  cpuMs: number;
  /** Per worker (one entry in-process): the CPU time of the jobs it ran. */
  cpuMsPerSlot: number[];
  /** Time spent packing and posting weights (`setWeights`). */
  weightsMs: number;
  /** Jobs run. */
  jobs: number;
}

const zero = (slots: number): PoolTimes => ({
  wallMs: 0,
  busyMs: 0,
  idleMs: 0,
  cpuMs: 0,
  cpuMsPerSlot: new Array<number>(slots).fill(0),
  weightsMs: 0,
  jobs: 0,
});

/** Built worker locations tried, relative to this module (bundled dist, unbundled, dev src). */
const CANDIDATES = [
  './_internal/pool/worker.js', // dist/cli.js, dist/index.js (tsup entry src/_internal/pool/worker.ts)
  './worker.js', // an unbundled build: dist/_internal/pool/pool.js
  '../../../dist/_internal/pool/worker.js', // src/_internal/pool/pool.ts in dev and vitest
];

/**
 * The compiled worker script: `ATMANRL_POOL_WORKER` if set, else the first of the built
 * locations next to this module.
 * @throws PoolError `WORKER_NOT_FOUND` naming the paths tried
 */
export function findWorkerScript(): URL {
  const fromEnv = process.env['ATMANRL_POOL_WORKER'];
  if (fromEnv) return new URL(fromEnv, `file://${process.cwd()}/`);
  const urls = CANDIDATES.map((c) => new URL(c, import.meta.url));
  const found = urls.find((u) => existsSync(fileURLToPath(u)));
  if (found) return found;
  throw new PoolError(
    'WORKER_NOT_FOUND',
    `the pool's worker script is missing; tried ${urls.map((u) => fileURLToPath(u)).join(', ')}. Build the trainer (pnpm --filter @atmanrl/trainer build), set ATMANRL_POOL_WORKER, or run with --workers 1.`,
  );
}

interface Pending {
  job: Job;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

/**
 * One `run` call's jobs. Every worker gets the whole batch and claims jobs itself, one at a time,
 * from a shared counter (worker.ts): a worker that finishes a job starts the next at once, even
 * while the main thread is busy in a long synchronous computation (a policy update overlapping
 * the fits, `--overlap-rewards`), and no job waits behind another in a busy worker's inbox.
 */
interface Batch {
  id: number;
  /** Per job, until it settles; null after. */
  pending: (Pending | null)[];
  /** Shared: `[0]` the next unclaimed job; `[1 + w]` 1 + the job worker w runs (0: none). */
  claims: Int32Array;
  /** Workers that have not yet reported the batch drained. */
  open: number;
}

interface Slot {
  worker: Worker;
  index: number;
  /** Outstanding replies (start, weights, memory, batch): the worker keeps the process alive. */
  waits: number;
  memory: ((n: number) => void)[];
}

/**
 * Runs {@link Job}s on `workers` threads (or in-process). Per step: `setWeights(version, policy)`
 * once, then `run(jobs)`; results come back in job order whatever worker ran them, so results do
 * not depend on the worker count. A worker that dies makes the batch reject with a
 * `WORKER_CRASHED` error naming the job and its items; the pool is then closed (dispose it).
 */
export class WorkerPool implements JobRunner {
  /** Jobs that can run at once (worker count, 1 in-process). */
  readonly slots: number;
  /** True when jobs run on the main thread. */
  readonly inProcess: boolean;
  /**
   * Per worker thread, as the worker reported it once started (see {@link ready}): its backend
   * and whether its model recomputes activations. Empty in-process.
   */
  readonly workerSettings: { backend: string; recompute: boolean }[] = [];
  private readonly threads: Slot[] = [];
  private readonly batches = new Map<number, Batch>();
  private batchCounter = 0;
  private readonly started: Promise<void>;
  private policy: CausalLM | null = null;
  private version: number | null = null;
  private failure: PoolError | null = null;
  private disposed = false;
  private inFlight = 0;
  private jobCounter = 0;
  private times: PoolTimes;

  constructor(options: WorkerPoolOptions) {
    const n = options.workers;
    if (!Number.isInteger(n) || n < 0) {
      throw new PoolError(
        'BAD_ARGUMENT',
        `workers = ${n}; expected an integer ≥ 0 (0 or 1 = in-process)`,
      );
    }
    this.inProcess = options.inProcess ?? n <= 1;
    this.slots = this.inProcess ? 1 : Math.max(1, n);
    this.times = zero(this.slots);
    if (this.inProcess) {
      this.started = Promise.resolve();
      return;
    }
    const url = options.workerUrl ?? findWorkerScript();
    const init: Omit<WorkerInit, 'index'> = {
      modelDir: options.modelDir,
      backend: options.backend,
      ...(options.recompute ? { recompute: true } : {}),
      ...(options.crashHook ? { crash: options.crashHook } : {}),
    };
    const starts: Promise<void>[] = [];
    for (let i = 0; i < this.slots; i++) {
      let worker: Worker;
      try {
        worker = new Worker(url, {
          workerData: { ...init, index: i } satisfies WorkerInit,
          ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
        });
      } catch (cause) {
        this.disposed = true;
        for (const t of this.threads) void t.worker.terminate();
        throw new PoolError(
          'WORKER_NOT_FOUND',
          `pool worker ${i} could not be created from ${String(url)}: ${(cause as Error).message}`,
          { cause },
        );
      }
      const slot: Slot = { worker, index: i, waits: 1, memory: [] };
      this.threads.push(slot);
      starts.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', (msg: FromWorker) => {
            this.release(slot);
            if (msg.type === 'ready') {
              this.workerSettings[i] = { backend: msg.backend, recompute: msg.recompute };
              resolve();
            } else {
              const text = msg.type === 'start-error' ? msg.message : `unexpected ${msg.type}`;
              reject(
                this.fail(
                  new PoolError(
                    'WORKER_START_FAILED',
                    `pool worker ${i} could not start (backend ${options.backend}, model ${options.modelDir}): ${text}`,
                  ),
                ),
              );
            }
            worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
          });
          worker.on('error', (e) => {
            this.onDeath(slot, e.message);
            reject(this.failure);
          });
          worker.on('exit', (code) => {
            this.onDeath(slot, `exit code ${code}`);
            reject(this.failure);
          });
        }),
      );
    }
    this.started = Promise.all(starts).then(() => undefined);
    this.started.catch(() => undefined); // reported by run()/ready()
  }

  /** Resolves when every worker has its backend and model. @throws PoolError `WORKER_START_FAILED` */
  ready(): Promise<void> {
    return this.started;
  }

  /** A job id unique within this pool's life, e.g. `fit-12`. */
  newJobId(prefix: string): string {
    return `${prefix}-${++this.jobCounter}`;
  }

  /** The weights version jobs must carry (null before the first `setWeights`). */
  get weightsVersion(): number | null {
    return this.version;
  }

  /**
   * Makes `policy`'s current trainable variables version `version` of the weights: packed once
   * into a shared buffer and posted to every worker (in-process: the policy itself is used, so it
   * must not change while jobs of this version run). Call between batches, never during one.
   * @throws PoolError `BAD_ARGUMENT` during a batch, `POOL_CLOSED` after a crash or dispose
   */
  async setWeights(version: number, policy: CausalLM): Promise<void> {
    this.checkOpen();
    if (this.inFlight > 0) {
      throw new PoolError(
        'BAD_ARGUMENT',
        `setWeights(${version}) while ${this.inFlight} jobs run; wait for the batch to finish`,
      );
    }
    const t0 = performance.now();
    this.policy = policy;
    this.version = version;
    if (!this.inProcess) {
      await this.ready();
      const weights = await packWeights(policy, version);
      for (const slot of this.threads) this.send(slot, { type: 'weights', weights });
    }
    this.times.weightsMs += performance.now() - t0;
  }

  /**
   * Runs jobs (all with the current weights version) and returns their results in job order.
   * `onProgress(done, total)` is called as jobs finish.
   * @throws PoolError `NO_WEIGHTS`, `JOB_FAILED`, `WORKER_CRASHED`, `POOL_CLOSED`; a UsageError
   *   (`BAD_CONFIG`, naming the options that fix it) when a job ran out of backend memory
   */
  async run<J extends Job>(
    jobs: readonly J[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<JobResult<J>[]> {
    this.checkOpen();
    for (const job of jobs) {
      if (this.version === null || job.weightsVersion !== this.version) {
        throw new PoolError(
          'NO_WEIGHTS',
          `${describeJob(job)}: the pool holds weights version ${this.version ?? 'none'}; call setWeights(${job.weightsVersion}, policy) first`,
          { jobId: job.id },
        );
      }
    }
    await this.ready();
    const t0 = performance.now();
    let done = 0;
    this.inFlight += jobs.length;
    try {
      const results = this.inProcess
        ? await this.runHere(jobs, () => onProgress?.(++done, jobs.length))
        : await this.runThreads(jobs, () => onProgress?.(++done, jobs.length));
      const wallMs = performance.now() - t0;
      const busyMs = results.reduce((s, r) => s + r.busyMs, 0);
      this.times.wallMs += wallMs;
      this.times.busyMs += busyMs;
      this.times.idleMs += Math.max(0, this.slots * wallMs - busyMs);
      this.times.jobs += jobs.length;
      return results;
    } finally {
      this.inFlight -= jobs.length;
    }
  }

  /** Times accumulated since the last call (then reset), e.g. once per step for `time/*` metrics. */
  takeTimes(): PoolTimes {
    const t = this.times;
    this.times = zero(this.slots);
    return t;
  }

  /** `tf.memory().numTensors` of each worker (in-process: of this thread), for leak checks. */
  async tensorCounts(): Promise<number[]> {
    this.checkOpen();
    if (this.inProcess) return [tf.memory().numTensors];
    await this.ready();
    return Promise.all(
      this.threads.map(
        (slot) =>
          new Promise<number>((resolve) => {
            slot.memory.push(resolve);
            this.send(slot, { type: 'memory' });
          }),
      ),
    );
  }

  /** Terminates the workers; pending jobs reject with `POOL_CLOSED`. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.fail(new PoolError('POOL_CLOSED', 'the worker pool was disposed'));
    await Promise.all(this.threads.map((s) => s.worker.terminate()));
    this.policy = null;
  }

  private async runHere<J extends Job>(
    jobs: readonly J[],
    tick: () => void,
  ): Promise<JobResult<J>[]> {
    const out: JobResult<J>[] = [];
    for (const job of jobs) {
      try {
        const r = await runJob(this.policy!, job);
        this.noteCpu(0, r);
        out.push(r);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        throw jobFailed(
          job,
          (e as Error).name,
          (e as Error).message,
          e,
          typeof code === 'string' ? code : undefined,
        );
      }
      tick();
    }
    return out;
  }

  private async runThreads<J extends Job>(
    jobs: readonly J[],
    tick: () => void,
  ): Promise<JobResult<J>[]> {
    this.checkOpen(); // a worker may have died while run() awaited ready()
    const n = jobs.length;
    const shared = new SharedArrayBuffer(4 * (1 + this.slots));
    const batch: Batch = {
      id: ++this.batchCounter,
      pending: [],
      claims: new Int32Array(shared),
      open: 0,
    };
    const promises = jobs.map(
      (job) =>
        new Promise<JobResult<J>>((resolve, reject) => {
          batch.pending.push({
            job,
            resolve: (r) => {
              tick();
              resolve(r as JobResult<J>);
            },
            reject,
          });
        }),
    );
    this.batches.set(batch.id, batch);
    const msg: ToWorker = { type: 'batch', batch: batch.id, jobs, claims: shared };
    try {
      for (const slot of this.threads) {
        this.send(slot, msg);
        batch.open++;
      }
    } catch (e) {
      // Not structured-clone-able (a function or a tensor in a job): posting it to the first
      // worker threw, so no worker got the batch. The job at fault says so; the rest are cancelled.
      this.release(this.threads[batch.open]!);
      Atomics.store(batch.claims, 0, n);
      if (batch.open === 0) this.batches.delete(batch.id);
      const bad = Math.max(
        0,
        jobs.findIndex((job) => !cloneable(job)),
      );
      const p = batch.pending[bad]!;
      batch.pending[bad] = null;
      p.reject(
        new PoolError(
          'BAD_ARGUMENT',
          `${describeJob(p.job)} cannot be sent to a worker: ${(e as Error).message}. Jobs must be plain data (no functions, no tensors).`,
          { jobId: p.job.id, cause: e },
        ),
      );
      this.cancel(batch, 0);
    }
    try {
      return await Promise.all(promises);
    } catch (e) {
      // One job failed: no worker claims another job of this batch, and its running ones finish,
      // so that no job of this batch is left in a worker when the caller goes on (or disposes).
      const claimed = Atomics.exchange(batch.claims, 0, n);
      this.cancel(batch, Math.min(claimed, n));
      await Promise.allSettled(promises);
      // After a crash, name the crashed job rather than one the crash cancelled.
      throw this.failure && this.failure.code !== 'POOL_CLOSED' ? this.failure : e;
    }
  }

  /** Rejects the batch's unsettled jobs from `from` on as cancelled. */
  private cancel(batch: Batch, from: number): void {
    for (let i = from; i < batch.pending.length; i++) {
      const p = batch.pending[i];
      if (!p) continue;
      batch.pending[i] = null;
      p.reject(new PoolError('POOL_CLOSED', `${describeJob(p.job)} was cancelled`));
    }
  }

  private noteCpu(slot: number, r: JobResult): void {
    if (r.cpuMs === null) return;
    this.times.cpuMs += r.cpuMs;
    this.times.cpuMsPerSlot[slot] = (this.times.cpuMsPerSlot[slot] ?? 0) + r.cpuMs;
  }

  private send(slot: Slot, msg: ToWorker): void {
    if (slot.waits++ === 0) slot.worker.ref();
    slot.worker.postMessage(msg);
  }

  /** One reply came back; an idle worker no longer keeps the process alive. */
  private release(slot: Slot): void {
    if (--slot.waits === 0) slot.worker.unref();
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case 'memory':
        this.release(slot);
        slot.memory.shift()?.(msg.numTensors);
        return;
      case 'weights-done':
        this.release(slot);
        return;
      case 'weights-error':
        this.release(slot);
        this.fail(new PoolError('WEIGHTS_MISMATCH', `pool worker ${slot.index}: ${msg.message}`));
        return;
      case 'batch-done': {
        this.release(slot);
        const b = this.batches.get(msg.batch);
        if (b !== undefined && --b.open === 0) this.batches.delete(b.id);
        return;
      }
      case 'result':
      case 'job-error': {
        const b = this.batches.get(msg.batch);
        const p = b?.pending[msg.index];
        if (!b || !p) return;
        b.pending[msg.index] = null;
        if (msg.type === 'result') {
          this.noteCpu(slot.index, msg.result);
          p.resolve(msg.result);
        } else p.reject(jobFailed(p.job, msg.name, msg.message, undefined, msg.code));
        return;
      }
      default:
        return;
    }
  }

  private onDeath(slot: Slot, why: string): void {
    if (this.disposed || this.failure) return;
    // The job it was running: its claim in a batch (fail() closes the rest).
    let p: Pending | null = null;
    for (const b of this.batches.values()) {
      const claim = Atomics.load(b.claims, 1 + slot.index);
      p = claim > 0 ? (b.pending[claim - 1] ?? null) : null;
      if (p !== null) {
        b.pending[claim - 1] = null;
        break;
      }
    }
    const error = p
      ? new PoolError(
          'WORKER_CRASHED',
          `pool worker ${slot.index} died (${why}) while running ${describeJob(p.job)}. The step was not written; the run can be resumed from its last checkpoint. If the worker ran out of memory, use fewer --workers or smaller batches.`,
          { jobId: p.job.id },
        )
      : new PoolError('WORKER_CRASHED', `pool worker ${slot.index} died (${why}) while idle`);
    p?.reject(error);
    this.fail(error);
  }

  /** Closes the pool: every queued or running job rejects with `POOL_CLOSED` naming the cause. */
  private fail(error: PoolError): PoolError {
    if (this.failure === null) this.failure = error;
    const cause = this.failure;
    const closed = (job: Job) =>
      new PoolError('POOL_CLOSED', `${describeJob(job)} was not run: ${cause.message}`, {
        jobId: job.id,
        cause,
      });
    for (const b of this.batches.values()) {
      Atomics.store(b.claims, 0, b.pending.length); // live workers claim no more
      b.pending.forEach((p, i) => {
        b.pending[i] = null;
        p?.reject(closed(p.job));
      });
    }
    this.batches.clear();
    for (const slot of this.threads) {
      for (const m of slot.memory.splice(0)) m(Number.NaN);
    }
    return this.failure;
  }

  private checkOpen(): void {
    if (this.failure) {
      throw new PoolError('POOL_CLOSED', `the worker pool is closed: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
  }
}

/** Whether a job survives structured cloning (what posting it to a worker does). */
function cloneable(job: Job): boolean {
  try {
    structuredClone(job);
    return true;
  } catch {
    return false;
  }
}

/** The error of a job that threw: a user error when it ran out of memory, else `JOB_FAILED`. */
function jobFailed(
  job: Job,
  name: string,
  message: string,
  cause?: unknown,
  code?: string,
): PoolError | UsageError {
  if (isOutOfMemoryCode(code)) return jobOutOfMemory(job, name, code!, message, cause);
  return new PoolError(
    code === 'NO_WEIGHTS' ? 'NO_WEIGHTS' : 'JOB_FAILED',
    `${describeJob(job)} failed: ${name}${code ? ` ${code}` : ''}: ${message}`,
    { jobId: job.id, ...(cause === undefined ? {} : { cause }) },
  );
}
