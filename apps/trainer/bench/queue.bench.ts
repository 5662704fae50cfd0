// The Redis job queue against the worker-thread pool, on wasm with the embedded default model at
// the demo's sizes (4 prompts × G = 4 rollouts of up to 40 tokens, 16 mask fits of 20 steps, one
// job per prompt and per group): a step is setWeights + generate + fit.
//  - queue overhead per step: 1 queue worker process vs 1 pool worker thread (same job thread);
//  - step time with 1, 2 and 3 worker processes (concurrency 1 each) on this machine;
//  - a projection for N = 1, 2, 4, 8, 16, 64 workers from the measured per-job times, the queue's
//    per-job overhead, the publish time and the weights transfer (size ÷ bandwidth, every worker
//    fetching each version once through one link), with the trainer's update (time/update of a
//    real 2-step `train` run at the same sizes) after the jobs: where the update dominates.
// Starts its own redis-server (test/redis-server.ts). Never part of `pnpm test`.
// Run: pnpm --filter @atmanrl/trainer exec vitest bench --run bench/queue.bench.ts
//      (BENCH_QUEUE_STEPS=N steps per variant, default 3; BENCH_QUEUE_GBPS link speed, default 1)
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRng, type LlamaModel, loadModel } from '@atmanrl/model/node';
import type { SaliencyItem } from '@atmanrl/saliency';
import { afterAll, bench, describe } from 'vitest';
import { embeddedModelDir } from '../src/_internal/model-source.js';
import { PooledRolloutEngine, pooledFit, WorkerPool } from '../src/_internal/pool/index.js';
import { QueuePool } from '../src/_internal/queue/index.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, tempDir } from '../test/helpers.js';
import {
  type BuiltWorkers,
  buildQueueWorker,
  startWorker,
  type WorkerProcess,
} from '../test/queue-harness.js';
import { type RedisHandle, startRedis } from '../test/redis-server.js';

const STEPS = Number(process.env['BENCH_QUEUE_STEPS'] ?? 3);
const GBPS = Number(process.env['BENCH_QUEUE_GBPS'] ?? 1);
const FIT_STEPS = 20;
const P = 4;
const G = 4;
const once = { time: 0, iterations: 1, warmupIterations: 0, warmupTime: 0 };
const QUESTIONS = [
  'What is 17 + 25 - 8?',
  'Compute 6 * 7 + 3.',
  'What is 90 - 45 + 12?',
  'Compute 8 * 9 - 20.',
];

interface Ctx {
  policy: LlamaModel;
  dir: string;
  built: BuiltWorkers;
  redis: RedisHandle;
}
let setUp: Promise<Ctx> | undefined;
function context(): Promise<Ctx> {
  setUp ??= (async () => {
    await initBackend({ prefer: 'wasm' });
    const dir = embeddedModelDir();
    const [policy, built, redis] = await Promise.all([
      loadModel(dir),
      buildQueueWorker(),
      startRedis(),
    ]);
    return { policy, dir, built, redis };
  })();
  return setUp;
}

interface StepTimes {
  publishMs: number;
  genMs: number;
  fitMs: number;
  totalMs: number;
  genBusyMs: number;
  fitBusyMs: number;
  genJobs: number;
  fitJobs: number;
}
const results = new Map<string, StepTimes[]>();
let weightsBytes = 0;
let updateMs = Number.NaN;

type Runner = WorkerPool | QueuePool;

async function step(pool: Runner, policy: LlamaModel, k: number): Promise<StepTimes> {
  const tok = policy.tokenizer!;
  const runner = pool as WorkerPool;
  const t0 = performance.now();
  await pool.setWeights(k, policy);
  const tw = performance.now();
  pool.takeTimes();
  const rollouts = await new PooledRolloutEngine(runner).generate({
    promptIds: QUESTIONS.slice(0, P).map((q) =>
      tok.encode(
        tok.applyChatTemplate([{ role: 'user', content: q }], { addGenerationPrompt: true }),
        {
          addSpecialTokens: false,
        },
      ),
    ),
    numGenerations: G,
    maxCompletionLength: 40,
    temperature: 1,
    rng: createRng(k),
  });
  const t1 = performance.now();
  const gen = pool.takeTimes();
  const gold = tok.encode(' 42', { addSpecialTokens: false }).slice(0, 2);
  const items: SaliencyItem[] = rollouts.map((r) => ({
    promptIds: r.promptIds,
    cotIds: r.completionIds.slice(0, Math.max(0, r.completionIds.length - 1)),
    delimiterIds: [],
    goldAnswerIds: gold,
  }));
  await pooledFit(runner, items, { steps: FIT_STEPS, lr: 1e-2, itemsPerJob: G });
  const t2 = performance.now();
  const fit = pool.takeTimes();
  return {
    publishMs: tw - t0,
    genMs: t1 - tw,
    fitMs: t2 - t1,
    totalMs: t2 - t0,
    genBusyMs: gen.busyMs,
    fitBusyMs: fit.busyMs,
    genJobs: gen.jobs,
    fitJobs: fit.jobs,
  };
}

async function measure(
  name: string,
  make: (c: Ctx) => Promise<{ pool: Runner; close: () => Promise<void> }>,
) {
  const c = await context();
  const { pool, close } = await make(c);
  try {
    await pool.ready();
    await step(pool, c.policy, 0); // warm-up: kernels, caches, weights fetch
    const times: StepTimes[] = [];
    for (let k = 1; k <= STEPS; k++) times.push(await step(pool, c.policy, k));
    results.set(name, times);
    if (pool instanceof QueuePool) weightsBytes = pool.weightsRef?.bytes ?? 0;
  } finally {
    await close();
  }
}

function queueVariant(n: number) {
  return async (c: Ctx) => {
    const ws: WorkerProcess[] = Array.from({ length: n }, () =>
      startWorker(c.built, c.redis.url, ['--backend', 'wasm']),
    );
    await Promise.all(ws.map((w) => w.waitFor(/taking jobs/)));
    const pool = new QueuePool({ url: c.redis.url, run: `bench-${n}`, timeoutS: 120 });
    return {
      pool,
      close: async () => {
        await pool.dispose();
        await Promise.all(ws.map((w) => w.stop()));
      },
    };
  };
}

describe('Redis job queue vs worker threads, demo-sized step on wasm (default model)', () => {
  bench(
    '1 pool worker thread',
    () =>
      measure('1 thread', async (c) => {
        const pool = new WorkerPool({
          workers: 1,
          inProcess: false,
          modelDir: c.dir,
          backend: 'wasm',
          workerUrl: new URL(`file://${c.built.poolWorker}`),
        });
        return { pool, close: () => pool.dispose() };
      }),
    once,
  );
  bench('queue, 1 worker process', () => measure('queue 1', queueVariant(1)), once);
  bench('queue, 2 worker processes', () => measure('queue 2', queueVariant(2)), once);
  bench('queue, 3 worker processes', () => measure('queue 3', queueVariant(3)), once);
  bench(
    'update time of a 2-step train run (same sizes)',
    async () => {
      const runs = tempDir('bench-queue-runs-');
      const { io } = captureIO();
      await runCli(
        [
          'train',
          '--model',
          'embedded',
          '--backend',
          'wasm',
          '--runs-dir',
          runs,
          '--max-steps',
          '2',
          '--prompts-per-step',
          String(P),
          '--num-generations',
          String(G),
          '--max-completion-length',
          '40',
          '--saliency-steps',
          String(FIT_STEPS),
          '--num-iterations',
          '1',
          '--probe-prompts',
          '0',
          '--workers',
          '1',
        ],
        io,
        COMMANDS,
      );
      const dir = join(runs, readdirSync(runs)[0]!);
      const last = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!;
      updateMs =
        (JSON.parse(last) as { metrics: Record<string, number> }).metrics['time/update']! * 1000;
    },
    once,
  );
});

afterAll(async () => {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const row = (name: string) => {
    const ts = results.get(name);
    if (!ts) return null;
    const m = (f: (t: StepTimes) => number) => mean(ts.map(f));
    return {
      name,
      publish: m((t) => t.publishMs),
      gen: m((t) => t.genMs),
      fit: m((t) => t.fitMs),
      total: m((t) => t.totalMs),
      genJob: m((t) => t.genBusyMs / Math.max(1, t.genJobs)),
      fitJob: m((t) => t.fitBusyMs / Math.max(1, t.fitJobs)),
      genJobs: m((t) => t.genJobs),
      fitJobs: m((t) => t.fitJobs),
      // Step wall time not spent in jobs (publish, queue round trips, polling), meaningful with one
      // slot, where the jobs run in series: robust to the jobs' own times drifting with the load.
      nonJob: m((t) => t.totalMs - t.genBusyMs - t.fitBusyMs),
    };
  };
  const rows = ['1 thread', 'queue 1', 'queue 2', 'queue 3'].map(row).filter((r) => r !== null);
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  const lines = [
    `\nRedis queue vs worker threads: ${STEPS} steps per variant (after 1 warm-up), ${P}×${G} rollouts, ${P * G} fits × ${FIT_STEPS} steps, wasm; load average ${load}`,
    '| variant | publish ms | generation ms | fit ms | step ms (no update) | per generate job ms | per fit job ms | step time outside jobs ms (1 slot) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.publish.toFixed(0)} | ${r.gen.toFixed(0)} | ${r.fit.toFixed(0)} | ${r.total.toFixed(0)} | ${r.genJob.toFixed(0)} | ${r.fitJob.toFixed(0)} | ${r.name.endsWith(' 1') || r.name === '1 thread' ? r.nonJob.toFixed(0) : '—'} |`,
    ),
  ];
  const thread = rows.find((r) => r.name === '1 thread');
  const q1 = rows.find((r) => r.name === 'queue 1');
  if (thread && q1) {
    const full = thread.total + (Number.isFinite(updateMs) ? updateMs : 0);
    const over = q1.nonJob - thread.nonJob;
    lines.push(
      `queue overhead per step (time outside jobs, 1 process vs 1 thread): ${over.toFixed(0)} ms = ${((100 * over) / full).toFixed(1)} % of the threaded step (${full.toFixed(0)} ms with the update of ${Number.isFinite(updateMs) ? updateMs.toFixed(0) : '?'} ms); target < 5 %`,
    );
  }
  if (thread && q1 && Number.isFinite(updateMs)) {
    // T(N) = publish + N·S/B (every worker pulls the version through one link) + the two phases,
    // each ceil(jobs/N) rounds of (job + the queue's per-job overhead), + the update.
    const bytesPerMs = (GBPS * 1e9) / 8 / 1000;
    const jobs = q1.genJobs + q1.fitJobs;
    const perJob = (q1.nonJob - q1.publish) / jobs;
    const project = (n: number, scale: number) => {
      const transfer = (n * weightsBytes) / bytesPerMs;
      const work =
        Math.ceil((q1.genJobs * scale) / n) * (thread.genJob + perJob) +
        Math.ceil((q1.fitJobs * scale) / n) * (thread.fitJob + perJob);
      return { transfer, work, total: q1.publish + transfer + work + updateMs };
    };
    for (const scale of [1, 16]) {
      lines.push(
        '',
        `projection, ${P * scale} prompts × G ${G} per step (${q1.genJobs * scale} generate + ${q1.fitJobs * scale} fit jobs; per job: generate ${thread.genJob.toFixed(0)} ms, fit ${thread.fitJob.toFixed(0)} ms, queue ${perJob.toFixed(0)} ms), weights ${(weightsBytes / 1e6).toFixed(1)} MB over ${GBPS} Gbit/s, update ${updateMs.toFixed(0)} ms:`,
        '| workers | weights transfer ms | jobs ms | step ms | update share |',
        '|---:|---:|---:|---:|---:|',
      );
      for (const n of [1, 2, 4, 8, 16, 64]) {
        const p = project(n, scale);
        const mark = updateMs > p.work ? ' (update dominates)' : '';
        lines.push(
          `| ${n} | ${p.transfer.toFixed(0)} | ${p.work.toFixed(0)} | ${p.total.toFixed(0)} | ${((100 * updateMs) / p.total).toFixed(0)} %${mark} |`,
        );
      }
    }
    // With enough workers a step is one generate job + one fit job + the update; the update
    // dominates once a fit job takes less than it, i.e. with jobs of fewer items.
    const floor = thread.genJob + thread.fitJob + 2 * perJob;
    const perItem = thread.fitJob / G;
    const items = Math.floor(updateMs / perItem);
    lines.push(
      '',
      `floor with as many workers as jobs: one generate + one fit job = ${floor.toFixed(0)} ms vs the update's ${updateMs.toFixed(0)} ms. ${items >= 1 ? `The update dominates with fit jobs of at most ${items} items (now ${G})` : `The update never dominates at this size: one fit item alone (${perItem.toFixed(0)} ms) takes longer than the update`}. The weights transfer (each worker pulls ${(weightsBytes / 1e6).toFixed(1)} MB through one ${GBPS} Gbit/s link) outgrows the update from ${Math.ceil((updateMs * bytesPerMs) / Math.max(1, weightsBytes))} workers.`,
    );
  }
  console.log(lines.join('\n'));
  const ctx = await setUp;
  ctx?.policy.dispose();
  ctx?.built.cleanup();
  await ctx?.redis.stop();
});
