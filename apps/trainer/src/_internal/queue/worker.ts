// `atmanrl worker`: takes generate and fit jobs from the BullMQ queue and runs them on the worker
// pool's own threads (`WorkerPool`, `concurrency` threads), so this process's event loop only
// talks to Redis and renews job locks, however long a CPU-bound fit runs. Weights versions are
// fetched once from the store the job names, verified by sha256, kept in a small folder cache.
// A malformed job, a job of another protocol or of a trainer that is gone is failed with a named
// error and the worker goes on. Leaves out the trainer side (queue-pool.ts).
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendName } from '@atmanrl/attention-mask/node';
import { type LlamaModel, loadModel } from '@atmanrl/model/node';
import { type Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Job, WorkerPool } from '../pool/index.js';
import { encodeValue } from './codec.js';
import { QueueError } from './errors.js';
import {
  BULL_PREFIX,
  DEFAULT_QUEUE,
  HEARTBEAT_MS,
  HEARTBEAT_TTL_MS,
  metaPrefix,
  type WorkerBeat,
} from './keys.js';
import { parseEnvelope, QUEUE_PROTOCOL, type QueueResult, type WeightsRef } from './schema.js';
import { parseQueueUrl, redisClient } from './url.js';
import {
  type BlobStore,
  DirStore,
  fetchVerified,
  RedisStore,
  writeModelFolder,
} from './weights-store.js';

/** Options of {@link QueueWorker}. */
export interface QueueWorkerOptions {
  /** `--queue` URL. */
  url: string;
  /** tfjs backend of the job threads. */
  backend: BackendName;
  /** Jobs run at once (one pool thread each; default 1). */
  concurrency?: number;
  /** BullMQ queue name (default `jobs`). */
  queueName?: string;
  /** Weights versions kept on disk (default 2). */
  cacheVersions?: number;
  /** Folder of the weights cache (default a fresh folder under the OS temp dir, removed on close). */
  cacheDir?: string;
  /** A shared weights directory mounted elsewhere on this machine than on the trainer's. */
  weightsDir?: string;
  /**
   * BullMQ job lock (ms, default 30000). Jobs run off this thread, so the lock is renewed every
   * half of it however long a fit runs; a killed worker's job is taken over after it expires.
   */
  lockMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (ms, default 30000). */
  stalledCheckMs?: number;
  /** Status lines (jobs done, fits/s, weights version held). */
  log?: (line: string) => void;
  /** Compiled pool worker script (default: found next to the built trainer). */
  poolWorkerUrl?: URL | string;
}

interface Held {
  sha: string;
  /** The local pool's version number for it. */
  local: number;
  step: number;
  run: string;
}

/** A queue worker process's state; `start()` begins taking jobs, `close()` stops. */
export class QueueWorker {
  readonly id = `${hostname()} pid ${process.pid}`;
  private readonly client: Redis;
  private readonly meta: string;
  private worker: Worker | null = null;
  private pool: WorkerPool | null = null;
  private poolSpec: string | null = null;
  private held: Held | null = null;
  private localVersion = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private switching: Promise<void> = Promise.resolve();
  private readonly cacheDir: string;
  private readonly ownsCache: boolean;
  private readonly startedAt = Date.now();
  private beat: NodeJS.Timeout | null = null;
  private beatPending = false;
  private closing = false;
  private report: NodeJS.Timeout | null = null;
  /** Jobs finished, fit items finished, busy ms, rejected jobs. */
  readonly stats = { jobs: 0, fitItems: 0, busyMs: 0, rejected: 0 };
  private lastReport = { t: performance.now(), fitItems: 0, jobs: -1 };

  constructor(private readonly options: QueueWorkerOptions) {
    const url = parseQueueUrl(options.url);
    const c = options.concurrency ?? 1;
    if (!Number.isInteger(c) || c < 1) {
      throw new QueueError('BAD_QUEUE_URL', `--concurrency ${c}: expected an integer ≥ 1`);
    }
    this.client = redisClient(url, `atmanrl-worker ${this.id}`, () => this.closing);
    this.client.on('error', () => undefined);
    this.meta = metaPrefix(options.queueName ?? DEFAULT_QUEUE);
    this.ownsCache = options.cacheDir === undefined;
    this.cacheDir = options.cacheDir ?? join(tmpdir(), `atmanrl-worker-${process.pid}`);
    mkdirSync(this.cacheDir, { recursive: true });
  }

  /** Starts taking jobs; resolves once its first heartbeat is in Redis (or Redis is down). */
  start(): Promise<void> {
    const concurrency = this.options.concurrency ?? 1;
    const lockDuration = this.options.lockMs ?? 30_000;
    this.worker = new Worker(this.options.queueName ?? DEFAULT_QUEUE, (job) => this.process(job), {
      connection: this.client,
      prefix: BULL_PREFIX,
      concurrency,
      name: this.id,
      lockDuration,
      stalledInterval: this.options.stalledCheckMs ?? 30_000,
      maxStalledCount: 2,
    });
    this.worker.on('error', (e) => this.options.log?.(`worker: Redis: ${e.message}`));
    this.worker.on('failed', (job, e) => {
      if (job) this.options.log?.(`worker: job ${job.id} failed: ${e.message}`);
    });
    const beat = () => this.heartbeat().catch(() => undefined);
    this.beat = setInterval(beat, HEARTBEAT_MS);
    this.report = setInterval(() => this.printStatus(false), 5000);
    return beat();
  }

  private async heartbeat(): Promise<void> {
    // While Redis is down the beat waits in ioredis's offline queue (its TTL makes a late one harmless).
    if (this.beatPending) return;
    const b: WorkerBeat = {
      id: this.id,
      backend: this.options.backend,
      concurrency: this.options.concurrency ?? 1,
      jobsDone: this.stats.jobs,
      fitItemsDone: this.stats.fitItems,
      busyMs: this.stats.busyMs,
      startedAt: this.startedAt,
      weights: this.held?.sha ?? null,
      step: this.held?.step ?? null,
      run: this.held?.run ?? null,
    };
    await this.client.set(
      `${this.meta}:worker:${this.id}`,
      JSON.stringify(b),
      'PX',
      HEARTBEAT_TTL_MS,
    );
  }

  /** One status line: jobs done, fits/s since the last line, weights version held. */
  printStatus(force: boolean): void {
    if (!force && this.stats.jobs === this.lastReport.jobs) return;
    const now = performance.now();
    const rate =
      ((this.stats.fitItems - this.lastReport.fitItems) * 1000) /
      Math.max(1, now - this.lastReport.t);
    this.lastReport = { t: now, fitItems: this.stats.fitItems, jobs: this.stats.jobs };
    const held = this.held
      ? `weights ${this.held.sha.slice(0, 12)} (step ${this.held.step} of run ${this.held.run})`
      : 'no weights yet';
    this.options.log?.(
      `worker ${this.id}: ${this.stats.jobs} jobs done, ${rate.toFixed(2)} fits/s, ${held}${this.stats.rejected ? `, ${this.stats.rejected} jobs rejected` : ''}`,
    );
  }

  private async process(bull: BullJob): Promise<object> {
    const id = bull.id ?? '?';
    let env: ReturnType<typeof parseEnvelope>;
    try {
      env = parseEnvelope(bull.data, id);
      const current = await this.client.get(`${this.meta}:session:${env.run}`);
      if (current !== null && current !== env.session) {
        throw new QueueError(
          'STALE_JOB',
          `job ${id} belongs to trainer session ${env.session} of run ${env.run}, which was replaced by session ${current} (the trainer was restarted); discarded, not run`,
        );
      }
    } catch (e) {
      this.stats.rejected++;
      const err = e as QueueError;
      // Deterministic: no retry. The message keeps the code for the trainer.
      throw new UnrecoverableError(`${err.code ?? 'BAD_JOB'}: ${err.message}`);
    }
    let local: number;
    try {
      local = await this.acquire(env.weights, env.step, env.run);
    } catch (e) {
      // Weights missing or damaged: retried (the store may catch up), then failed with the code.
      const err = e as QueueError;
      throw new Error(`${err.code ?? 'WEIGHTS_MISSING'}: ${err.message}`);
    }
    try {
      const job: Job = { ...env.job, weightsVersion: local } as Job;
      let r: Awaited<ReturnType<WorkerPool['run']>>[number];
      try {
        r = (await this.pool!.run([job]))[0]!;
      } catch (e) {
        const err = e as Error & { code?: string };
        if (err.code === 'WORKER_CRASHED' || err.code === 'POOL_CLOSED') {
          // A thread died (e.g. out of memory): this process cannot go on; its lock expires and
          // another worker takes the job over.
          this.options.log?.(`worker: ${err.message}; exiting`);
          process.exit(1);
        }
        throw new UnrecoverableError(`JOB_FAILED: ${err.message}`);
      }
      this.stats.jobs++;
      this.stats.busyMs += r.busyMs;
      if (env.job.kind === 'fit') this.stats.fitItems += env.job.items.length;
      const out: QueueResult = {
        protocol: QUEUE_PROTOCOL,
        id: env.job.id,
        kind: env.job.kind,
        value: r.value,
        busyMs: r.busyMs,
        cpuMs: r.cpuMs,
        worker: this.id,
      };
      return encodeValue(out) as object;
    } finally {
      this.release();
    }
  }

  /** Makes the pool hold `ref` (waiting for running jobs of another version); returns its number. */
  private async acquire(ref: WeightsRef, step: number, run: string): Promise<number> {
    for (;;) {
      await this.switching;
      if (this.held?.sha === ref.sha256) {
        this.inFlight++;
        return this.held.local;
      }
      if (this.inFlight > 0) {
        await new Promise<void>((r) => this.idleWaiters.push(r));
        continue;
      }
      let done!: () => void;
      this.switching = new Promise<void>((r) => {
        done = r;
      });
      try {
        await this.load(ref, step, run);
      } finally {
        done();
      }
    }
  }

  private release(): void {
    if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private storeFor(ref: WeightsRef): BlobStore {
    if (ref.store.kind === 'redis') return new RedisStore(this.client, this.meta);
    return new DirStore(this.options.weightsDir ?? ref.store.path);
  }

  /** Fetches, verifies and loads a version (no job runs meanwhile). */
  private async load(ref: WeightsRef, step: number, run: string): Promise<void> {
    const dir = join(this.cacheDir, ref.sha256);
    if (!existsModel(dir)) {
      const store = this.storeFor(ref);
      const spec = await fetchVerified(store, ref.spec, 'the model spec');
      const weights = await fetchVerified(store, ref.sha256, `the weights of step ${step}`);
      rmSync(dir, { recursive: true, force: true });
      await writeModelFolder(dir, spec, weights);
    }
    if (this.pool === null || this.poolSpec !== ref.spec) {
      await this.pool?.dispose();
      this.pool = new WorkerPool({
        workers: this.options.concurrency ?? 1,
        inProcess: false,
        modelDir: dir,
        backend: this.options.backend,
        ...(this.options.poolWorkerUrl ? { workerUrl: this.options.poolWorkerUrl } : {}),
      });
      this.poolSpec = ref.spec;
      await this.pool.ready();
    }
    let model: LlamaModel | null = null;
    try {
      model = await loadModel(dir, { trainable: true });
      const local = ++this.localVersion;
      await this.pool.setWeights(local, model);
      this.held = { sha: ref.sha256, local, step, run };
    } finally {
      model?.dispose();
    }
    this.evict(ref.sha256);
    this.printStatus(true);
  }

  /** Keeps the newest `cacheVersions` version folders (never the one held). */
  private evict(keep: string): void {
    const max = this.options.cacheVersions ?? 2;
    const entries = readdirSync(this.cacheDir)
      .filter((n) => /^[0-9a-f]{64}$/.test(n) && n !== keep)
      .map((n) => ({ n, t: statSync(join(this.cacheDir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const e of entries.slice(Math.max(0, max - 1))) {
      rmSync(join(this.cacheDir, e.n), { recursive: true, force: true });
    }
  }

  /** Version folders in the cache (for tests and the status line). */
  cachedVersions(): string[] {
    return readdirSync(this.cacheDir).filter((n) => /^[0-9a-f]{64}$/.test(n));
  }

  /** Stops taking jobs, waits for the running ones, closes the pool and the connection. */
  async close(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    if (this.report) clearInterval(this.report);
    await this.worker?.close();
    await this.client.del(`${this.meta}:worker:${this.id}`).catch(() => undefined);
    await this.pool?.dispose();
    this.closing = true;
    this.client.disconnect();
    if (this.ownsCache) rmSync(this.cacheDir, { recursive: true, force: true });
  }
}

function existsModel(dir: string): boolean {
  try {
    return statSync(join(dir, 'model.safetensors')).isFile();
  } catch {
    return false;
  }
}
