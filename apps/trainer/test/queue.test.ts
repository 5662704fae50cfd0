// The Redis job queue against a real redis-server and real worker processes on loopback: results
// byte-identical to the in-process pool with 1 and 3 workers, kill -9 of a worker mid-fit, a fit
// longer than the job lock, no workers, a Redis restart mid-step, leftovers of a killed trainer,
// malformed and foreign-protocol jobs.
import { pathToFileURL } from 'node:url';
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRng, type LlamaModel, loadModel } from '@atmanrl/model/node';
import type { SaliencyItem } from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PooledRolloutEngine, pooledFit, WorkerPool } from '../src/_internal/pool/index.js';
import { encodeValue } from '../src/_internal/queue/codec.js';
import { QUEUE_PROTOCOL, QueuePool, QueueWorker } from '../src/_internal/queue/index.js';
import { BULL_PREFIX } from '../src/_internal/queue/keys.js';
import { tempDir, tinyModelDir } from './helpers.js';
import {
  type BuiltWorkers,
  buildQueueWorker,
  startWorker,
  type WorkerProcess,
} from './queue-harness.js';
import { type RedisHandle, startRedis } from './redis-server.js';

let redis: RedisHandle;
let built: BuiltWorkers;
let dir: string;
let policy: LlamaModel;
const running: WorkerProcess[] = [];

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  [redis, built, dir] = await Promise.all([startRedis(), buildQueueWorker(), tinyModelDir(3)]);
  policy = await loadModel(dir);
  // Away from the folder's weights: a worker that ignored the published version would differ.
  tf.tidy(() => {
    for (const v of policy.trainableVariables) v.assign(tf.add(v, tf.mul(tf.sign(v), 0.05)));
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((w) => w.kill9()));
  policy?.dispose();
  built?.cleanup();
  await redis?.stop();
});

/** Starts n worker processes; resolves once each reports it is taking jobs. */
async function workers(n: number, extra: string[] = []): Promise<WorkerProcess[]> {
  const ws = Array.from({ length: n }, () => startWorker(built, redis.url, extra));
  running.push(...ws);
  await Promise.all(ws.map((w) => w.waitFor(/taking jobs/)));
  return ws;
}

async function stopAll(ws: WorkerProcess[]): Promise<void> {
  await Promise.all(ws.map((w) => w.stop()));
}

const prompts = [
  [1, 40, 41, 42],
  [1, 50, 51],
  [1, 60, 61, 62, 63],
];

function fitItems(): SaliencyItem[] {
  return [
    { promptIds: [1, 40, 41], cotIds: [70, 71, 72], delimiterIds: [80], goldAnswerIds: [90, 91] },
    { promptIds: [1, 50], cotIds: [73, 74], delimiterIds: [80], goldAnswerIds: [92] },
    { promptIds: [1, 60, 61, 62], cotIds: [75, 76, 77, 78], delimiterIds: [], goldAnswerIds: [93] },
    { promptIds: [1, 63], cotIds: [], delimiterIds: [80], goldAnswerIds: [94, 95] },
    { promptIds: [1, 64, 65], cotIds: [79], delimiterIds: [80], goldAnswerIds: [96] },
  ];
}

type Runner = WorkerPool | QueuePool;

/** One step's jobs (3 generate, 3 fit) on any runner; the adapters take the pool's interface. */
async function oneStep(p: Runner, fitSteps = 4, version = 7) {
  await p.setWeights(version, policy);
  const rng = createRng(11);
  // both are JobRunners: the adapters use weightsVersion, newJobId, run
  const rollouts = await new PooledRolloutEngine(p).generate({
    promptIds: prompts,
    numGenerations: 2,
    maxCompletionLength: 6,
    temperature: 1,
    topK: 50,
    rng,
  });
  const fits = await pooledFit(p, fitItems(), { steps: fitSteps, lr: 0.05, itemsPerJob: 2 });
  return JSON.stringify(encodeValue({ rollouts, fits, rng: rng.state() }));
}

const reference = new Map<number, string>();
async function inProcess(fitSteps = 4): Promise<string> {
  if (!reference.has(fitSteps)) {
    const here = new WorkerPool({ workers: 0, modelDir: dir, backend: 'cpu' });
    reference.set(fitSteps, await oneStep(here, fitSteps));
    await here.dispose();
  }
  return reference.get(fitSteps)!;
}

function queuePool(run: string, extra: Partial<ConstructorParameters<typeof QueuePool>[0]> = {}) {
  return new QueuePool({ url: redis.url, run, timeoutS: 60, ...extra });
}

/** A raw BullMQ producer on queue `name` (to add jobs no trainer would, and to inspect). */
function rawQueue(name: string): { queue: Queue; close: () => Promise<void> } {
  const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: client, prefix: BULL_PREFIX });
  return {
    queue,
    close: async () => {
      await queue.close();
      client.disconnect();
    },
  };
}

/** Resolves with the first active job of `queue` that `name` matches, polling. */
async function firstActive(queue: Queue, kind: string): Promise<{ id: string; by: string }> {
  for (;;) {
    const active = await queue.getJobs(['active']);
    const j = active.find((x) => x?.name === kind && x.processedBy);
    if (j) return { id: j.id!, by: j.processedBy! };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The failed reason of a job once it has failed. */
async function failedReason(queue: Queue, id: string): Promise<string> {
  for (;;) {
    const j = await queue.getJob(id);
    if (j && (await j.getState()) === 'failed') return j.failedReason;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const LONG_FIT = 150;

describe('QueuePool with real workers', () => {
  it('gives results byte-identical to the in-process pool with 1 and with 3 worker processes', async () => {
    const want = await inProcess();
    const one = await workers(1);
    const q1 = queuePool('exact-1');
    try {
      expect(await oneStep(q1)).toBe(want);
      const m = q1.takeQueueMetrics(1000);
      expect(m['queue/workers']).toBe(1);
      expect(m['queue/worker0_busy']).toBeGreaterThan(0);
    } finally {
      await q1.dispose();
    }
    const more = await workers(2);
    // Weights through a shared directory this time (the other store).
    const q3 = queuePool('exact-3', { weightsDir: tempDir('weights-') });
    try {
      expect(await oneStep(q3)).toBe(want);
      expect(q3.workers).toHaveLength(3);
    } finally {
      await q3.dispose();
      await stopAll([...one, ...more]);
    }
    expect(one[0]!.lines.join('\n')).toMatch(
      /jobs done, [\d.]+ fits\/s, weights [0-9a-f]{12} \(step 7 of run exact-/,
    );
  }, 120_000);
});

describe('QueueWorker weights versions', () => {
  it('switches versions between jobs, keeps a small verified cache and evicts old versions', async () => {
    const name = 'versions';
    const cacheDir = tempDir('cache-');
    const worker = new QueueWorker({
      url: redis.url,
      backend: 'cpu',
      queueName: name,
      cacheDir,
      cacheVersions: 2,
      poolWorkerUrl: pathToFileURL(built.poolWorker),
    });
    worker.start();
    const q = queuePool('versions', { queueName: name });
    const here = new WorkerPool({ workers: 0, modelDir: dir, backend: 'cpu' });
    // Its own model, moved a little each version (the suite's policy stays as it is).
    const model = await loadModel(dir);
    const fits = async (p: Runner, v: number) => {
      await p.setWeights(v, model);
      const r = await pooledFit(p, fitItems(), { steps: 2, itemsPerJob: 5 });
      return JSON.stringify(encodeValue(r));
    };
    try {
      for (let v = 1; v <= 3; v++) {
        tf.tidy(() => {
          for (const x of model.trainableVariables) x.assign(tf.mul(x, 1 + v / 100));
        });
        expect(await fits(q, v)).toBe(await fits(here, v));
      }
      const held = q.weightsRef!.sha256;
      expect(worker.cachedVersions()).toHaveLength(2);
      expect(worker.cachedVersions()).toContain(held);
    } finally {
      model.dispose();
      await Promise.all([q.dispose(), here.dispose(), worker.close()]);
    }
  }, 60_000);
});

describe('queue faults with real Redis and real worker processes', () => {
  it('takes over the job of a worker killed with kill -9 mid-fit once its lock expires; same results', async () => {
    const want = await inProcess(LONG_FIT);
    const name = 'kill';
    const ws = await workers(2, [
      '--queue-name',
      name,
      '--lock-ms',
      '1000',
      '--stalled-check-ms',
      '500',
    ]);
    const q = queuePool('kill', { queueName: name });
    const raw = rawQueue(name);
    try {
      const step = oneStep(q, LONG_FIT);
      const { by } = await firstActive(raw.queue, 'fit');
      const victim = ws.find((w) => by.endsWith(`pid ${w.pid}`))!;
      expect(victim).toBeDefined();
      await victim.kill9();
      expect(await step).toBe(want);
      // The survivor ran every fit job but those the victim finished before it died.
      const survivor = ws.find((w) => w !== victim)!;
      expect(survivor.lines.join('\n')).not.toMatch(/failed/);
    } finally {
      await raw.close();
      await q.dispose();
      await stopAll(ws);
    }
  }, 120_000);

  it('keeps the lock of a fit longer than the lock duration (jobs run off the event loop)', async () => {
    const want = await inProcess(LONG_FIT);
    const name = 'lock';
    // A 150-step fit runs for seconds on this model; the lock is 300 ms, renewed every 150 ms.
    const [w] = await workers(1, [
      '--queue-name',
      name,
      '--lock-ms',
      '300',
      '--stalled-check-ms',
      '300',
    ]);
    const q = queuePool('lock', { queueName: name });
    try {
      expect(await oneStep(q, LONG_FIT)).toBe(want);
    } finally {
      await q.dispose();
      await stopAll([w!]);
    }
    // 3 generate + 3 fit jobs, each run exactly once: a lost lock would have run one twice.
    expect(w!.lines.at(-1)).toMatch(/: 6 jobs done, /);
    expect(w!.lines.join('\n')).not.toMatch(/failed|stalled|missing lock|renew/i);
  }, 120_000);

  it('says on the progress line that no worker is connected, then stops with NO_WORKERS', async () => {
    const lines: (string | null)[] = [];
    const q = queuePool('none', { queueName: 'none', timeoutS: 1.5, onWait: (l) => lines.push(l) });
    try {
      await expect(oneStep(q)).rejects.toMatchObject({
        name: 'QueueError',
        code: 'NO_WORKERS',
        message: expect.stringMatching(/no queue worker was connected .* for 1.5 s .*--resume/),
      });
      expect(lines.some((l) => /waiting for queue workers: none connected/.test(l ?? ''))).toBe(
        true,
      );
      // Its jobs were taken off the queue: nothing is left to run for a dead step.
      const raw = rawQueue('none');
      expect(await raw.queue.getJobCounts('wait', 'active')).toEqual({ wait: 0, active: 0 });
      await raw.close();
    } finally {
      await q.dispose();
    }
  }, 60_000);

  it('recovers a step when Redis restarts empty mid-fit: lost jobs re-added, same results', async () => {
    const want = await inProcess(LONG_FIT);
    const name = 'restart';
    const logs: string[] = [];
    const [w] = await workers(1, [
      '--queue-name',
      name,
      '--lock-ms',
      '1000',
      '--stalled-check-ms',
      '500',
    ]);
    const q = queuePool('restart', { queueName: name, log: (l) => logs.push(l) });
    const raw = rawQueue(name);
    raw.queue.on('error', () => undefined);
    try {
      const step = oneStep(q, LONG_FIT);
      await firstActive(raw.queue, 'fit');
      await redis.restart();
      expect(await step).toBe(want);
      expect(logs.join('\n')).toMatch(/Redis lost \d+ jobs of step 7/);
      expect(q.takeQueueMetrics(1000)['queue/requeued']).toBeGreaterThan(0);
    } finally {
      await raw.close();
      await q.dispose();
      await stopAll([w!]);
    }
  }, 120_000);

  it('discards jobs of a killed trainer of the run, refuses malformed and foreign-protocol jobs, and keeps working', async () => {
    const want = await inProcess();
    const name = 'leftover';
    const raw = rawQueue(name);
    const q0 = queuePool('left', { queueName: name });
    await q0.setWeights(7, policy);
    const envelope = (session: string) => ({
      protocol: QUEUE_PROTOCOL,
      run: 'left',
      session,
      step: 7,
      weights: q0.weightsRef!,
      job: {
        kind: 'fit',
        id: 'fit-1',
        weightsVersion: 7,
        items: fitItems().slice(0, 1),
        options: { steps: 2 },
        offset: 0,
      },
    });
    await q0.dispose();
    // A dead trainer's waiting job: the next trainer of the run removes it before it runs.
    await raw.queue.add('fit', envelope('deadbeef0000'), { jobId: 'left.deadbeef0000.s7.x.fit-1' });
    const logs: string[] = [];
    const q = queuePool('left', { queueName: name, log: (l) => logs.push(l) });
    await q.ready();
    expect(logs).toEqual(['queue: discarded 1 jobs left by an earlier trainer of run left']);
    // Added after the new trainer started (as if the dead one's job had been running): refused.
    await raw.queue.add('fit', envelope('deadbeef0001'), { jobId: 'left.deadbeef0001.s7.x.fit-1' });
    await raw.queue.add(
      'fit',
      { protocol: QUEUE_PROTOCOL, run: 'left', job: { kind: 'fit' } },
      { jobId: 'bad-1' },
    );
    await raw.queue.add('fit', { ...envelope(q.session), protocol: 99 }, { jobId: 'future-1' });
    const [w] = await workers(1, ['--queue-name', name]);
    try {
      expect(await failedReason(raw.queue, 'left.deadbeef0001.s7.x.fit-1')).toMatch(
        /^STALE_JOB: .*session deadbeef0001 of run left, which was replaced by session/,
      );
      expect(await failedReason(raw.queue, 'bad-1')).toMatch(/^BAD_JOB: job bad-1 is malformed: /);
      expect(await failedReason(raw.queue, 'future-1')).toMatch(
        /^PROTOCOL_MISMATCH: job future-1 speaks atmanrl queue protocol 99, this worker speaks protocol 1/,
      );
      // The worker is still there and runs a whole step right.
      expect(await oneStep(q)).toBe(want);
    } finally {
      await raw.close();
      await q.dispose();
      await stopAll([w!]);
    }
    // The step's 6 jobs ran; the 3 refused ones did not (the discarded one never reached it).
    expect(w!.lines.at(-1)).toMatch(/: 6 jobs done, .*, 3 jobs rejected$/);
  }, 120_000);
});
