// The trainer's side of the Redis job queue: the worker pool's interface (setWeights, run,
// takeTimes, dispose) over BullMQ, so PooledRolloutEngine and pooledFit cut the same jobs with the
// same seeds and `atmanrl worker` processes on any machine run them. A job's BullMQ id is its
// identity (run, trainer session, step, weights version, job id): a retry or a duplicate
// delivery computes the same record, and the first result read is the one used. Results come
// back in job order, so they are byte-identical to the in-process pool's.
// Leaves out the worker (worker.ts) and the weights stores (weights-store.ts).
import { randomBytes } from 'node:crypto';
import type { LlamaModel } from '@atmanrl/model';
import { Job as BullJob, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Job, JobResult, JobRunner, PoolTimes } from '../pool/index.js';
import { encodeValue } from './codec.js';
import { QueueError, type QueueErrorCode } from './errors.js';
import { BULL_PREFIX, DEFAULT_QUEUE, metaPrefix, safeId, type WorkerBeat } from './keys.js';
import { parseResult, QUEUE_PROTOCOL, type QueueEnvelope, type WeightsRef } from './schema.js';
import { parseQueueUrl, type QueueUrl, redisClient } from './url.js';
import { type BlobStore, DirStore, RedisStore, snapshotModel } from './weights-store.js';

/** Options of {@link QueuePool}. */
export interface QueuePoolOptions {
  /** `--queue`: redis://[user:password@]host:port[/db] or rediss://… */
  url: string;
  /** The run's id: part of every job's identity. */
  run: string;
  /** `--queue-timeout` (s): how long to wait with no worker connected, or Redis unreachable. */
  timeoutS: number;
  /** BullMQ queue name (default `jobs`); trainers and workers must agree. */
  queueName?: string;
  /** Weights store: Redis itself (default) or a directory every worker mounts at the same path. */
  weightsDir?: string;
  /** Attempts per job before it fails the step (default 3; crashes of workers count). */
  attempts?: number;
  /**
   * Called with a line for the progress display while the trainer waits for workers or for Redis,
   * and with null when it stops waiting.
   */
  onWait?: (line: string | null) => void;
  /** Notes (leftover jobs discarded, jobs requeued after a Redis restart). */
  log?: (line: string) => void;
}

/** One connected worker as the trainer sees it (from its heartbeat). */
export type ConnectedWorker = WorkerBeat;

interface Pending {
  job: Job;
  index: number;
  bullId: string;
  data: QueueEnvelope;
}

/** Per connected worker over the last step (seconds), for metrics. */
interface WorkerTime {
  busyMs: number;
  concurrency: number;
}

const POLL_MS = 500;

/**
 * Runs pool jobs on `atmanrl worker` processes through a BullMQ queue. Same surface as
 * `WorkerPool` where the trainer uses it: `ready`, `newJobId`, `weightsVersion`, `setWeights`,
 * `run`, `takeTimes`, `slots`, `dispose`.
 */
export class QueuePool implements JobRunner {
  /** Never in-process. */
  readonly inProcess = false;
  /** This trainer process; jobs of an earlier session of the same run are discarded. */
  readonly session = randomBytes(6).toString('hex');
  readonly url: QueueUrl;
  private readonly run_: string;
  private readonly queueName: string;
  private readonly meta: string;
  private readonly client: Redis;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly eventsClient: Redis;
  private readonly store: BlobStore;
  private readonly started: Promise<void>;
  private version: number | null = null;
  private weights: WeightsRef | null = null;
  private published: string[] = [];
  /** The current version's blobs, kept to publish again if Redis restarts empty (Redis store). */
  private snapshot: {
    specSha: string;
    spec: Uint8Array;
    weightsSha: string;
    weights: Uint8Array;
  } | null = null;
  private jobCounter = 0;
  private times: PoolTimes = zeroTimes();
  private perWorker = new Map<string, WorkerTime>();
  private lastWorkers: ConnectedWorker[] = [];
  private notify = new Set<() => void>();
  private closed = false;
  /** Jobs added again after Redis lost them (a restart without persistence), since takeTimes. */
  private requeued = 0;

  constructor(private readonly options: QueuePoolOptions) {
    this.url = parseQueueUrl(options.url);
    if (!(options.timeoutS > 0)) {
      throw new QueueError(
        'BAD_QUEUE_URL',
        `--queue-timeout ${options.timeoutS}: expected a number of seconds > 0`,
      );
    }
    this.run_ = safeId(options.run);
    this.queueName = options.queueName ?? DEFAULT_QUEUE;
    this.meta = metaPrefix(this.queueName);
    this.client = redisClient(this.url, `atmanrl-trainer ${this.session}`, () => this.closed);
    // Errors surface as waits with a timeout (REDIS_UNAVAILABLE), not as unhandled events.
    this.client.on('error', () => undefined);
    this.queue = new Queue(this.queueName, { connection: this.client, prefix: BULL_PREFIX });
    this.queue.on('error', () => undefined);
    this.eventsClient = redisClient(
      this.url,
      `atmanrl-trainer-events ${this.session}`,
      () => this.closed,
    );
    this.eventsClient.on('error', () => undefined);
    this.events = new QueueEvents(this.queueName, {
      connection: this.eventsClient,
      prefix: BULL_PREFIX,
    });
    this.events.on('error', () => undefined);
    const wake = ({ jobId }: { jobId: string }) => {
      if (jobId.startsWith(`${this.run_}.${this.session}.`)) for (const f of this.notify) f();
    };
    this.events.on('completed', wake);
    this.events.on('failed', wake);
    this.store =
      options.weightsDir === undefined
        ? new RedisStore(this.client, this.meta)
        : new DirStore(options.weightsDir);
    this.started = this.start();
    this.started.catch(() => undefined);
  }

  /** Slots (sum of the connected workers' concurrency at the last look; at least 1). */
  get slots(): number {
    return Math.max(
      1,
      this.lastWorkers.reduce((s, w) => s + w.concurrency, 0),
    );
  }

  /** The workers connected at the last look. */
  get workers(): readonly ConnectedWorker[] {
    return this.lastWorkers;
  }

  /** Per connected worker: its backend (for the trainer's start line). */
  get workerSettings(): { backend: string; recompute: boolean }[] {
    return this.lastWorkers.map((w) => ({ backend: w.backend, recompute: false }));
  }

  /** Connected to Redis, session registered, leftovers of earlier trainers of this run discarded. */
  ready(): Promise<void> {
    return this.started;
  }

  private async start(): Promise<void> {
    await this.untilRedis('connect');
    await this.client.set(`${this.meta}:session:${this.run_}`, this.session);
    const gone = await this.discardLeftovers();
    if (gone > 0)
      this.options.log?.(
        `queue: discarded ${gone} jobs left by an earlier trainer of run ${this.options.run}`,
      );
    this.lastWorkers = await this.connectedWorkers();
  }

  /**
   * Removes the jobs of this run added by other sessions (a killed trainer): never run, never
   * applied. Active ones too: a job whose worker died with it holds no lock once the lock expired
   * (no worker may be left to move it back to the wait list). A job a live worker is running is
   * locked and cannot be removed; its worker drops it (STALE_JOB) or its result is ignored, as no
   * pending job of this session has its id.
   */
  private async discardLeftovers(): Promise<number> {
    const mine = `${this.run_}.`;
    const jobs = await this.queue.getJobs(
      ['wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'],
      0,
      -1,
    );
    let n = 0;
    for (const j of jobs) {
      const id = j?.id;
      if (!id?.startsWith(mine) || id.startsWith(`${mine}${this.session}.`)) continue;
      try {
        await this.queue.remove(id);
        n++;
      } catch {
        // became active meanwhile: its worker drops it as stale
      }
    }
    return n;
  }

  /** Live heartbeats of `atmanrl worker` processes on this queue. */
  async connectedWorkers(): Promise<ConnectedWorker[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(
        cursor,
        'MATCH',
        `${this.meta}:worker:*`,
        'COUNT',
        200,
      );
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.client.mget(...keys);
    return values
      .filter((v): v is string => v !== null)
      .map((v) => JSON.parse(v) as WorkerBeat)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** A job id unique within this trainer's life, e.g. `fit-12`. */
  newJobId(prefix: string): string {
    return `${prefix}-${++this.jobCounter}`;
  }

  /** The weights version jobs must carry (null before the first `setWeights`). */
  get weightsVersion(): number | null {
    return this.version;
  }

  /** The published weights of the current version. */
  get weightsRef(): WeightsRef | null {
    return this.weights;
  }

  /**
   * Publishes `policy` as version `version`: serialised once (float32 safetensors + spec bundle),
   * content-addressed by sha256, put in the store unless already there. Keeps the last two
   * versions in a Redis store.
   */
  async setWeights(version: number, policy: LlamaModel): Promise<void> {
    this.checkOpen();
    await this.ready();
    const t0 = performance.now();
    const snap = await snapshotModel(policy);
    await this.untilRedis('publish the weights');
    await this.store.put(snap.specSha, snap.spec);
    await this.store.put(snap.weightsSha, snap.weights);
    this.weights = {
      sha256: snap.weightsSha,
      spec: snap.specSha,
      bytes: snap.weights.byteLength,
      store: this.store.ref,
    };
    this.version = version;
    this.snapshot = this.store instanceof RedisStore ? snap : null;
    if (!this.published.includes(snap.weightsSha)) this.published.push(snap.weightsSha);
    if (this.store instanceof RedisStore) {
      while (this.published.length > 2) await this.store.remove(this.published.shift()!);
    }
    this.times.weightsMs += performance.now() - t0;
  }

  /**
   * Adds the jobs (current weights version) to the queue and returns their results in job order.
   * Waits while no worker is connected or Redis is unreachable, up to `timeoutS`; re-adds jobs
   * Redis lost (restart without persistence), which is exact since a job is a pure record.
   * @throws QueueError `NO_WORKERS`, `REDIS_UNAVAILABLE`, `JOB_FAILED`, `BAD_RESULT`,
   *   `PROTOCOL_MISMATCH`, `BAD_JOB`, `QUEUE_CLOSED`
   */
  async run<J extends Job>(
    jobs: readonly J[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<JobResult<J>[]> {
    this.checkOpen();
    await this.ready();
    const version = this.version;
    const weights = this.weights;
    for (const job of jobs) {
      if (version === null || weights === null || job.weightsVersion !== version) {
        throw new QueueError(
          'QUEUE_CLOSED',
          `${job.kind} job ${job.id}: the queue holds weights version ${version ?? 'none'}, the job needs ${job.weightsVersion}; call setWeights first`,
          { jobId: job.id },
        );
      }
    }
    const t0 = performance.now();
    const pending = new Map<string, Pending>();
    jobs.forEach((job, index) => {
      const bullId = `${this.run_}.${this.session}.s${version}.${weights!.sha256.slice(0, 12)}.${job.id}`;
      const data: QueueEnvelope = {
        protocol: QUEUE_PROTOCOL,
        run: this.run_,
        session: this.session,
        step: version!,
        weights: weights!,
        job,
      };
      pending.set(bullId, { job, index, bullId, data });
    });
    await this.add([...pending.values()]);
    const results = new Array<JobResult<J>>(jobs.length);
    let done = 0;
    try {
      await this.waitAll(pending, (p, r) => {
        results[p.index] = {
          id: p.job.id,
          value: r.value as JobResult<J>['value'],
          busyMs: r.busyMs,
          cpuMs: r.cpuMs,
        };
        const w = this.perWorker.get(r.worker) ?? { busyMs: 0, concurrency: 1 };
        w.busyMs += r.busyMs;
        this.perWorker.set(r.worker, w);
        if (r.cpuMs !== null) this.times.cpuMs += r.cpuMs;
        onProgress?.(++done, jobs.length);
      });
    } catch (e) {
      // This step is over: take its waiting jobs off the queue (running ones finish unread).
      await Promise.allSettled([...pending.keys()].map((id) => this.queue.remove(id)));
      throw e;
    }
    const wallMs = performance.now() - t0;
    const busyMs = results.reduce((s, r) => s + r.busyMs, 0);
    this.times.wallMs += wallMs;
    this.times.busyMs += busyMs;
    this.times.idleMs += Math.max(0, this.slots * wallMs - busyMs);
    this.times.jobs += jobs.length;
    return results;
  }

  private async add(list: Pending[]): Promise<void> {
    await this.untilRedis('add jobs');
    await this.queue.addBulk(
      list.map((p) => ({
        name: p.job.kind,
        data: encodeValue(p.data) as object,
        opts: {
          jobId: p.bullId,
          attempts: this.options.attempts ?? 3,
          removeOnComplete: false,
          removeOnFail: { age: 3600 },
        },
      })),
    );
  }

  /** Polls until every pending job has a result; `take` is called once per job. */
  private async waitAll(
    pending: Map<string, Pending>,
    take: (p: Pending, r: ReturnType<typeof parseResult>) => void,
  ): Promise<void> {
    let noWorkersSince: number | null = null;
    const timeoutMs = this.options.timeoutS * 1000;
    while (pending.size > 0) {
      this.checkOpen();
      await this.untilRedis('wait for results');
      const lost: Pending[] = [];
      for (const p of [...pending.values()]) {
        const state = await this.queue.getJobState(p.bullId);
        if (state === 'unknown') {
          lost.push(p);
          continue;
        }
        if (state === 'completed') {
          const j = await BullJob.fromId(this.queue, p.bullId);
          if (j === undefined) {
            lost.push(p);
            continue;
          }
          take(p, parseResult(j.returnvalue, p.bullId, p.job));
          pending.delete(p.bullId);
          await this.queue.remove(p.bullId).catch(() => undefined);
        } else if (state === 'failed') {
          const j = await BullJob.fromId(this.queue, p.bullId);
          throw failure(p, j?.failedReason ?? 'no reason recorded');
        }
      }
      if (lost.length > 0) {
        // Redis restarted empty (no persistence): publish the weights again and re-add the jobs.
        this.requeued += lost.length;
        this.options.log?.(
          `queue: Redis lost ${lost.length} jobs of step ${lost[0]!.data.step} (restarted without persistence?); publishing the weights again and re-adding them`,
        );
        await this.republish();
        await this.client.set(`${this.meta}:session:${this.run_}`, this.session);
        await this.add(lost);
      }
      if (pending.size === 0) break;
      this.lastWorkers = await this.connectedWorkers();
      if (this.lastWorkers.length === 0) {
        noWorkersSince ??= performance.now();
        const waited = (performance.now() - noWorkersSince) / 1000;
        if (waited * 1000 > timeoutMs) {
          this.options.onWait?.(null);
          throw new QueueError(
            'NO_WORKERS',
            `no queue worker was connected to ${this.url.redacted} for ${this.options.timeoutS} s (--queue-timeout) while ${pending.size} jobs of step ${[...pending.values()][0]!.data.step} waited. The step was not written; start workers (atmanrl worker --queue ${this.url.redacted}) and resume the run with --resume.`,
          );
        }
        this.options.onWait?.(
          `waiting for queue workers: none connected to ${this.url.redacted} for ${Math.floor(waited)} s (gives up after --queue-timeout ${this.options.timeoutS} s)`,
        );
      } else if (noWorkersSince !== null) {
        noWorkersSince = null;
        this.options.onWait?.(null);
      }
      await this.sleep(POLL_MS);
    }
  }

  private async republish(): Promise<void> {
    // The store lost them only when it is Redis; a directory keeps them.
    const s = this.snapshot;
    if (s === null) return;
    await this.store.put(s.specSha, s.spec);
    await this.store.put(s.weightsSha, s.weights);
  }

  /** Waits until the Redis connection is ready, up to `timeoutS`. */
  private async untilRedis(what: string): Promise<void> {
    const status = () => this.client.status as string;
    if (status() === 'ready') return;
    const t0 = performance.now();
    while (status() !== 'ready') {
      this.checkOpen();
      const waited = (performance.now() - t0) / 1000;
      if (waited > this.options.timeoutS) {
        this.options.onWait?.(null);
        throw new QueueError(
          'REDIS_UNAVAILABLE',
          `Redis at ${this.url.redacted} was unreachable for ${this.options.timeoutS} s (--queue-timeout) while trying to ${what}. The step was not written; check the server and resume the run with --resume.`,
        );
      }
      if (waited >= 1)
        this.options.onWait?.(
          `waiting for Redis at ${this.url.redacted} (${this.client.status}) for ${Math.floor(waited)} s`,
        );
      await this.sleep(POLL_MS);
    }
    this.options.onWait?.(null);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.notify.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.notify.add(wake);
    });
  }

  /** Times accumulated since the last call (then reset). */
  takeTimes(): PoolTimes {
    const t = this.times;
    t.cpuMsPerSlot = [t.cpuMs];
    this.times = zeroTimes();
    return t;
  }

  /**
   * Queue metrics of the step since the last call (then reset): connected workers, per worker
   * (in id order) busy and idle seconds (`concurrency · step − busy`), jobs Redis lost and that
   * were re-added.
   */
  takeQueueMetrics(stepMs: number): Record<string, number> {
    const out: Record<string, number> = {
      'queue/workers': this.lastWorkers.length,
      'queue/slots': this.lastWorkers.reduce((s, w) => s + w.concurrency, 0),
      'queue/requeued': this.requeued,
    };
    const conc = new Map(this.lastWorkers.map((w) => [w.id, w.concurrency]));
    const ids = [...new Set([...conc.keys(), ...this.perWorker.keys()])].sort();
    ids.forEach((id, i) => {
      const busy = this.perWorker.get(id)?.busyMs ?? 0;
      const c = conc.get(id) ?? 1;
      out[`queue/worker${i}_busy`] = busy / 1000;
      out[`queue/worker${i}_idle`] = Math.max(0, c * stepMs - busy) / 1000;
    });
    this.perWorker.clear();
    this.requeued = 0;
    return out;
  }

  /** Closes the connections; jobs still queued stay until a later trainer of the run drops them. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.notify) f();
    // Bounded: with Redis unreachable BullMQ's close would wait for it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([this.events.close(), this.queue.close()]),
      new Promise((r) => {
        timer = setTimeout(r, 2000);
      }),
    ]);
    clearTimeout(timer);
    this.client.disconnect();
    this.eventsClient.disconnect();
  }

  private checkOpen(): void {
    if (this.closed) throw new QueueError('QUEUE_CLOSED', 'the queue client was closed');
  }
}

function zeroTimes(): PoolTimes {
  return { wallMs: 0, busyMs: 0, idleMs: 0, cpuMs: 0, cpuMsPerSlot: [0], weightsMs: 0, jobs: 0 };
}

const CODES: QueueErrorCode[] = [
  'BAD_JOB',
  'PROTOCOL_MISMATCH',
  'STALE_JOB',
  'WEIGHTS_HASH_MISMATCH',
  'WEIGHTS_MISSING',
  'JOB_FAILED',
];

/** A failed job as a named error: the worker's `CODE: message` keeps its code. */
function failure(p: Pending, reason: string): QueueError {
  const m = /^([A-Z_]+): ([\s\S]*)$/.exec(reason);
  const code = m && (CODES as string[]).includes(m[1]!) ? (m[1] as QueueErrorCode) : 'JOB_FAILED';
  const what = `${p.job.kind} job ${p.job.id} of step ${p.data.step} (queue job ${p.bullId})`;
  return new QueueError(
    code,
    `${what} failed on its worker: ${reason}. The step was not written; the run can be resumed from its last checkpoint.`,
    { jobId: p.bullId },
  );
}
