// The worker pool: results identical for any worker count and in-process, weights really sent,
// no tensor leaks per job kind, crashes and job errors named, the adapters' layout and RNG use.
import { fileURLToPath } from 'node:url';
import { initBackend } from '@atmanrl/attention-mask/node';
import {
  createRandomModel,
  createRng,
  createTinyTokenizer,
  type LlamaModel,
  loadModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model/node';
import type { SaliencyItem } from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FitJob,
  findWorkerScript,
  type GenerateJob,
  generateInPasses,
  PoolError,
  PooledRolloutEngine,
  planWorkers,
  pooledFit,
  WorkerPool,
  workerTimeMetrics,
} from '../src/_internal/pool/index.js';
import { toUserError, UsageError } from '../src/errors.js';
import { tinyModelDir } from './helpers.js';
import { buildPoolWorker } from './pool-worker-build.js';

let workerUrl: URL;
let cleanup: () => void;
let dir: string;
let policy: LlamaModel;

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
  ({ url: workerUrl, cleanup } = await buildPoolWorker());
  dir = await tinyModelDir(3);
  policy = await loadModel(dir);
  // Move the policy away from the folder's weights, so a worker that ignored setWeights differs.
  tf.tidy(() => {
    for (const v of policy.trainableVariables) v.assign(tf.add(v, tf.mul(tf.sign(v), 0.05)));
  });
});

afterAll(() => {
  policy?.dispose();
  cleanup?.();
});

const pool = (workers: number, extra: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}) =>
  new WorkerPool({ workers, modelDir: dir, backend: 'cpu', workerUrl, ...extra });

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

async function oneStep(p: WorkerPool, model: LlamaModel = policy) {
  await p.setWeights(7, model);
  const rng = createRng(11);
  const engine = new PooledRolloutEngine(p);
  const rollouts = await engine.generate({
    promptIds: prompts,
    numGenerations: 2,
    maxCompletionLength: 6,
    temperature: 1,
    topK: 50,
    rng,
  });
  const fits = await pooledFit(p, fitItems(), { steps: 4, lr: 0.05, itemsPerJob: 2 });
  return { rollouts, fits, rngAfter: rng.state() };
}

describe('WorkerPool', () => {
  it('gives byte-identical rollouts and fits in-process and with 1 or 2 workers', async () => {
    const here = pool(0);
    const one = pool(1, { inProcess: false });
    const two = pool(2);
    try {
      expect([here.inProcess, one.inProcess, two.inProcess]).toEqual([true, false, false]);
      const a = JSON.stringify(await oneStep(here));
      const b = JSON.stringify(await oneStep(one));
      const c = JSON.stringify(await oneStep(two));
      expect(b).toBe(a);
      expect(c).toBe(a);
      const { rollouts, fits } = JSON.parse(a) as Awaited<ReturnType<typeof oneStep>>;
      expect(rollouts.map((r) => r.promptIndex)).toEqual([0, 0, 1, 1, 2, 2]);
      expect(rollouts.every((r) => r.oldLogProbs?.length === r.completionIds.length)).toBe(true);
      expect(fits.map((f) => f.theta.length)).toEqual([3, 2, 4, 0, 1]);
      expect(fits.every((f) => f.steps === (f.theta.length > 0 ? 4 : 0))).toBe(true);
    } finally {
      await Promise.all([here.dispose(), one.dispose(), two.dispose()]);
    }
  });

  it('runs jobs on the weights sent, not on the model folder', async () => {
    const folder = await loadModel(dir);
    const two = pool(2);
    try {
      const sent = JSON.stringify((await oneStep(two, policy)).fits);
      const fromFolder = JSON.stringify((await oneStep(pool(0), folder)).fits);
      expect(sent).not.toBe(fromFolder);
      // A new version replaces the old one in every worker.
      expect(JSON.stringify((await oneStep(two, folder)).fits)).toBe(fromFolder);
    } finally {
      folder.dispose();
      await two.dispose();
    }
  });

  it('draws one seed per generate job from the caller RNG, in job order', async () => {
    const here = pool(0);
    try {
      const { rngAfter } = await oneStep(here);
      const ref = createRng(11);
      for (const _ of prompts) ref.nextUint32();
      expect(rngAfter).toEqual(ref.state());
    } finally {
      await here.dispose();
    }
  });

  it('leaks no tensors per job kind, in-process and in workers', async () => {
    const here = pool(0);
    const two = pool(2);
    try {
      await here.setWeights(1, policy);
      await two.setWeights(1, policy);
      const gen = (id: string): GenerateJob => ({
        kind: 'generate',
        id,
        weightsVersion: 1,
        promptIds: [prompts[0]!],
        numGenerations: 2,
        sampling: { maxCompletionLength: 4, temperature: 1 },
        seed: 5,
        offset: 0,
      });
      const fit = (id: string): FitJob => ({
        kind: 'fit',
        id,
        weightsVersion: 1,
        items: fitItems().slice(0, 2),
        options: { steps: 3 },
        offset: 0,
      });
      for (const make of [gen, fit]) {
        // Warm up (kernels, lazily created constants), then count.
        await here.run([make('warm-here')]);
        await two.run([make('warm-a'), make('warm-b')]);
        const before = tf.memory().numTensors;
        const workersBefore = await two.tensorCounts();
        await here.run([make('here')]);
        await two.run([make('a'), make('b'), make('c')]);
        expect(tf.memory().numTensors).toBe(before);
        expect(await two.tensorCounts()).toEqual(workersBefore);
      }
      // A new weights version replaces the variables without leaking either.
      const workersBefore = await two.tensorCounts();
      await two.setWeights(2, policy);
      expect(await two.tensorCounts()).toEqual(workersBefore);
    } finally {
      await Promise.all([here.dispose(), two.dispose()]);
    }
  });

  it('accounts busy and idle time per batch', async () => {
    const two = pool(2);
    try {
      await oneStep(two);
      const t = two.takeTimes();
      expect(t.jobs).toBe(3 + 3); // 3 generate jobs (one per prompt), 3 fit jobs (5 items by 2)
      expect(t.busyMs).toBeGreaterThan(0);
      expect(t.idleMs).toBeCloseTo(Math.max(0, 2 * t.wallMs - t.busyMs), 6);
      expect(t.cpuMsPerSlot).toHaveLength(2);
      expect(t.cpuMsPerSlot.reduce((a, b) => a + b, 0)).toBeCloseTo(t.cpuMs, 6);
      if (process.platform === 'linux') expect(t.cpuMs).toBeGreaterThan(0);
      expect(two.takeTimes().jobs).toBe(0);
    } finally {
      await two.dispose();
    }
  });

  it('starts every worker with --recompute when asked, and its fits agree', async () => {
    const plain = pool(2);
    const recomputing = pool(2, { recompute: true });
    try {
      await Promise.all([plain.ready(), recomputing.ready()]);
      // what each worker's model reported once loaded, not what was asked
      expect(plain.workerSettings.map((w) => w.recompute)).toEqual([false, false]);
      expect(recomputing.workerSettings.map((w) => w.recompute)).toEqual([true, true]);
      expect(recomputing.workerSettings[0]!.backend).toMatch(/cpu/);
      const fits: Awaited<ReturnType<typeof pooledFit>>[] = [];
      for (const p of [plain, recomputing]) {
        await p.setWeights(1, policy);
        fits.push(await pooledFit(p, fitItems(), { steps: 3, lr: 0.05, itemsPerJob: 2 }));
      }
      fits[0]!.forEach((f, i) => {
        const g = fits[1]![i]!;
        expect(g.theta).toHaveLength(f.theta.length);
        g.theta.forEach((t, j) => {
          expect(t).toBeCloseTo(f.theta[j]!, 6);
        });
        expect(g.h).toBeCloseTo(f.h, 6);
      });
    } finally {
      await Promise.all([plain.dispose(), recomputing.dispose()]);
    }
    expect(pool(1).workerSettings).toEqual([]); // in-process: no worker threads
  });

  it('finds the worker script through ATMANRL_POOL_WORKER', async () => {
    const before = process.env['ATMANRL_POOL_WORKER'];
    process.env['ATMANRL_POOL_WORKER'] = fileURLToPath(workerUrl);
    try {
      expect(findWorkerScript().href).toBe(workerUrl.href);
      const viaEnv = new WorkerPool({ workers: 2, modelDir: dir, backend: 'cpu' });
      try {
        await viaEnv.ready();
        await viaEnv.setWeights(1, policy);
        expect(await pooledFit(viaEnv, fitItems().slice(0, 1), { steps: 1 })).toHaveLength(1);
      } finally {
        await viaEnv.dispose();
      }
    } finally {
      if (before === undefined) delete process.env['ATMANRL_POOL_WORKER'];
      else process.env['ATMANRL_POOL_WORKER'] = before;
    }
  });

  it('reports a worker that cannot load its model as WORKER_START_FAILED', async () => {
    const bad = pool(2, { modelDir: '/nonexistent/model-folder' });
    try {
      await expect(bad.ready()).rejects.toMatchObject({
        code: 'WORKER_START_FAILED',
        message: expect.stringContaining('/nonexistent/model-folder'),
      });
      await expect(bad.setWeights(1, policy)).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    } finally {
      await bad.dispose();
    }
  });

  it('rejects jobs before setWeights and weights of another architecture', async () => {
    const two = pool(2);
    const tokenizer = createTinyTokenizer();
    const other = createRandomModel(
      {
        vocab_size: TINY_VOCAB_SIZE,
        hidden_size: 8,
        intermediate_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        max_position_embeddings: 64,
        tie_word_embeddings: true,
      },
      0,
      { tokenizer },
    );
    try {
      await expect(pooledFit(two, fitItems(), { steps: 1 })).rejects.toMatchObject({
        code: 'NO_WEIGHTS',
      });
      await two.setWeights(1, other);
      await expect(pooledFit(two, fitItems(), { steps: 1 })).rejects.toMatchObject({
        code: 'WEIGHTS_MISMATCH',
        message: expect.stringContaining('variable 0'),
      });
    } finally {
      other.dispose();
      await two.dispose();
    }
  });

  it('workers claim every job of a batch themselves, while the main thread is blocked', async () => {
    const two = pool(2);
    try {
      await two.setWeights(1, policy);
      const items = [...fitItems(), ...fitItems()];
      const done = pooledFit(two, items, { steps: 2, itemsPerJob: 1 }); // 10 jobs
      const { batches } = two as unknown as {
        batches: Map<number, { claims: Int32Array; pending: unknown[] }>;
      };
      while (batches.size === 0) await new Promise((r) => setImmediate(r));
      const [batch] = [...batches.values()];
      // No event-loop turn from here until every job is claimed: were the main thread handing
      // out jobs, each worker would hold its first one and the count would stop at 2.
      const deadline = Date.now() + 60_000;
      while (Atomics.load(batch!.claims, 0) < items.length && Date.now() < deadline) {
        // spin
      }
      expect(Atomics.load(batch!.claims, 0)).toBeGreaterThanOrEqual(items.length);
      const fits = await done;
      expect(fits.map((f) => f.cotIds)).toEqual(items.map((it) => it.cotIds));
      // every worker reports the batch drained (right after its last result; up to 10 s of polls)
      for (let poll = 0; batches.size > 0 && poll < 1000; poll++)
        await new Promise((r) => setTimeout(r, 10));
      expect(batches.size).toBe(0);
    } finally {
      await two.dispose();
    }
  });

  it('names the job and its items when a job throws, and keeps the pool usable', async () => {
    const two = pool(2);
    try {
      await two.setWeights(1, policy);
      const bad = fitItems();
      bad[3] = { ...bad[3]!, goldAnswerIds: [] };
      const err = await pooledFit(two, bad, { steps: 2, itemsPerJob: 2 }).catch((e) => e);
      expect(err).toBeInstanceOf(PoolError);
      expect(err.code).toBe('JOB_FAILED');
      expect(err.message).toMatch(/fit job fit-\d+ \(items 2\.\.3 of the batch/);
      expect(err.message).toContain('BAD_ITEM');
      expect(await pooledFit(two, fitItems().slice(0, 1), { steps: 1 })).toHaveLength(1);
    } finally {
      await two.dispose();
    }
  });

  it('refuses a job that is not plain data, and pooledFit drops callbacks it cannot send', async () => {
    const two = pool(2);
    try {
      await two.setWeights(1, policy);
      // A caller outside TypeScript's view (or one holding a wider object) can still send one.
      const options = { steps: 1, onStep: () => undefined };
      const job: FitJob = {
        kind: 'fit',
        id: 'has-a-function',
        weightsVersion: 1,
        items: fitItems().slice(0, 1),
        options,
        offset: 0,
      };
      await expect(two.run([job])).rejects.toMatchObject({
        code: 'BAD_ARGUMENT',
        jobId: 'has-a-function',
      });
      const withCallback = { steps: 1, onStep: () => undefined } as Parameters<typeof pooledFit>[2];
      expect(await pooledFit(two, fitItems().slice(0, 2), withCallback)).toHaveLength(2);
    } finally {
      await two.dispose();
    }
  });
});

describe('issue 35.5: generation micro-batching (--generation-batch-size)', () => {
  // rows of different prompt lengths that stop at different steps (many end-of-sequence ids)
  const rowsOf = () => [prompts[0]!, prompts[0]!, prompts[1]!, prompts[2]!, prompts[2]!];
  const options = (seed: number) => ({
    maxNewTokens: 10,
    temperature: 1.3,
    rng: createRng(seed),
    eosTokenIds: Array.from({ length: 24 }, (_, i) => 30 + i),
  });

  it('generateInPasses equals one batch bit for bit on cpu, for every pass size', async () => {
    const ref = options(5);
    const batch = await policy.generate(rowsOf(), ref);
    const lengths = batch.map((r) => r.tokenIds.length);
    expect(new Set(lengths).size).toBeGreaterThan(1); // rows finish at different steps
    const before = tf.memory().numTensors;
    for (const rowsPerPass of [1, 2, 3, 5, 8]) {
      const o = options(5);
      const passes = await generateInPasses(policy, rowsOf(), o, rowsPerPass);
      expect(passes).toEqual(batch);
      // the same draws from the one RNG
      expect(o.rng.state()).toEqual(ref.rng.state());
    }
    // with top-k and top-p too
    const nucleus = { ...options(8), topK: 20, topP: 0.9 };
    const want = await policy.generate(rowsOf(), nucleus);
    expect(
      await generateInPasses(policy, rowsOf(), { ...options(8), topK: 20, topP: 0.9 }, 2),
    ).toEqual(want);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a generate job with a batch size runs passes of at most that many rows, same rollouts', async () => {
    const seen: number[] = [];
    const spy = Object.assign(Object.create(policy) as LlamaModel, {
      hiddenStates: (ids: tf.Tensor2D, o: object) => {
        seen.push(ids.shape[0]);
        return policy.hiddenStates(ids, o);
      },
    });
    const run = async (generationBatchSize?: number) => {
      const here = pool(0);
      try {
        await here.setWeights(1, spy);
        const engine = new PooledRolloutEngine(here, {
          ...(generationBatchSize ? { generationBatchSize } : {}),
        });
        return await engine.generate({
          promptIds: prompts,
          numGenerations: 4,
          maxCompletionLength: 6,
          temperature: 1,
          rng: createRng(2),
        });
      } finally {
        await here.dispose();
      }
    };
    const all = await run();
    expect(Math.max(...seen)).toBe(4); // one job per prompt: G rows in a pass
    seen.length = 0;
    const inPairs = await run(2);
    expect(Math.max(...seen)).toBe(2);
    expect(inPairs).toEqual(all);
    // in worker threads too
    const two = pool(2);
    try {
      await two.setWeights(1, policy);
      const threaded = await new PooledRolloutEngine(two, { generationBatchSize: 3 }).generate({
        promptIds: prompts,
        numGenerations: 4,
        maxCompletionLength: 6,
        temperature: 1,
        rng: createRng(2),
      });
      expect(threaded).toEqual(all);
    } finally {
      await two.dispose();
    }
  });
});

describe('issue 35.17: planWorkers', () => {
  it('caps --workers at the jobs of a step and warns above the core count', () => {
    const many = planWorkers({ requested: 64, fallback: 2, jobsPerBatch: 2, cores: 2 });
    expect(many.workers).toBe(2);
    expect(many.messages).toEqual([
      "--workers 64 is more than this machine's 2 cores: the threads share the cores, so a step gets slower and each holds its own model copy in memory; use --workers 2 or fewer",
      '--workers 64 is more than the 2 jobs of a step (one per prompt), so 2 workers are started',
    ]);
    // the default (every core) is capped too, with a note and no warning
    const cores = planWorkers({ requested: null, fallback: 16, jobsPerBatch: 4, cores: 16 });
    expect(cores).toEqual({
      workers: 4,
      messages: [
        'the default of 16 workers is more than the 4 jobs of a step (one per prompt), so 4 workers are started',
      ],
    });
    // within both limits: as asked, nothing printed
    expect(planWorkers({ requested: 3, fallback: 8, jobsPerBatch: 8, cores: 8 })).toEqual({
      workers: 3,
      messages: [],
    });
    // above the cores but not the jobs: started as asked, with the warning
    const over = planWorkers({ requested: 4, fallback: 2, jobsPerBatch: 8, cores: 2 });
    expect(over.workers).toBe(4);
    expect(over.messages).toHaveLength(1);
  });
});

describe('workerTimeMetrics', () => {
  it('turns pool times into worker-seconds against the step wall time', () => {
    const times = {
      wallMs: 3000,
      busyMs: 5000,
      idleMs: 1000,
      cpuMs: 4800,
      cpuMsPerSlot: [2500, 2300],
      weightsMs: 20,
      jobs: 8,
    };
    // 2 workers over a 4 s step: 8 worker-seconds, 5 busy, 3 idle (1 of them inside batches).
    expect(workerTimeMetrics(times, 2, 4000)).toEqual({
      'time/worker_busy': 5,
      'time/worker_idle': 3,
      'time/worker_idle_in_batches': 1,
      'time/weights_sync': 0.02,
    });
    expect(workerTimeMetrics(times, 1, 4000)['time/worker_idle']).toBe(0); // clamped
  });
});

describe('WorkerPool crashes', () => {
  const job = (id: string, offset: number): GenerateJob => ({
    kind: 'generate',
    id,
    weightsVersion: 1,
    promptIds: [prompts[offset]!],
    numGenerations: 2,
    sampling: { maxCompletionLength: 4, temperature: 1 },
    seed: offset,
    offset,
  });

  const why = { exit: 'exit code 3', throw: 'test crash hook', oom: 'out of memory' };
  for (const mode of ['exit', 'throw', 'oom'] as const) {
    it(`rejects the running job with WORKER_CRASHED on ${mode} and disposes cleanly`, async () => {
      const two = pool(2, {
        crashHook: { jobId: 'boom', mode },
        ...(mode === 'oom' ? { resourceLimits: { maxOldGenerationSizeMb: 96 } } : {}),
      });
      try {
        await two.setWeights(1, policy);
        const err = await two
          .run([job('ok-0', 0), job('boom', 1), job('ok-2', 2)])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PoolError);
        expect((err as PoolError).code).toBe('WORKER_CRASHED');
        expect((err as PoolError).jobId).toBe('boom');
        expect((err as Error).message).toContain('generate job boom (prompt 1 of the batch');
        expect((err as Error).message.toLowerCase()).toContain(why[mode]);
        await expect(two.run([job('after', 0)])).rejects.toMatchObject({ code: 'POOL_CLOSED' });
      } finally {
        await two.dispose();
      }
      await two.dispose(); // twice is fine
    });
  }

  it('issue 35.4: a job out of backend memory is a user error naming the job and the fix', async () => {
    const two = pool(2, { crashHook: { jobId: 'boom', mode: 'backend-oom' } });
    try {
      await two.setWeights(1, policy);
      const err = (await two
        .run([job('ok-0', 0), job('boom', 1)])
        .catch((e: unknown) => e)) as Error;
      // the CLI's classifier: a user error, exit 1, not "internal error ... please report"
      expect(err).toBeInstanceOf(UsageError);
      expect(toUserError(err)?.code).toBe('BAD_CONFIG');
      expect(err.message).toContain('generate job boom (prompt 1 of the batch');
      expect(err.message).toContain('ran out of memory: AttentionMaskError BACKEND_OUT_OF_MEMORY');
      expect(err.message).toContain('heap 4086 MiB');
      expect(err.message).toMatch(/--resume .*--generation-batch-size \(e\.g\. 1;/);
      // the worker survives: the pool still runs jobs
      expect(await two.run([job('after', 0)])).toHaveLength(1);
    } finally {
      await two.dispose();
    }
    // in-process (1 worker): the same classification, for a fit job
    const here = pool(1);
    try {
      const oom = Object.assign(new Error('wasm kernel Conv2D: heap exhausted'), {
        name: 'AttentionMaskError',
        code: 'BACKEND_OUT_OF_MEMORY',
      });
      const failing = Object.assign(Object.create(policy), {
        forward: () => {
          throw oom;
        },
        hiddenStates: () => {
          throw oom;
        },
      });
      await here.setWeights(1, failing);
      const err = (await here
        .run([
          {
            kind: 'fit',
            id: 'fit-oom',
            weightsVersion: 1,
            items: fitItems().slice(0, 1),
            options: { steps: 1 },
            offset: 0,
          },
        ])
        .catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toContain('fit job fit-oom (item 0 of the batch');
      expect(err.message).toContain('--max-tokens-per-micro-batch');
      expect((err as Error & { cause?: unknown }).cause).toBe(oom);
    } finally {
      await here.dispose();
    }
  });
});
