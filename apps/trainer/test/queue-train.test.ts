// End to end: a 3-step AtManRL run with --queue and 3 `atmanrl worker` processes on loopback logs
// the same metrics as the in-process run and survives kill -9 of one worker mid-step; with every
// worker gone it stops with exit 1 after --queue-timeout, and resumes to the same trajectory.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULL_PREFIX, DEFAULT_QUEUE } from '../src/_internal/queue/keys.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import {
  captureIO,
  deterministicMetrics,
  tempDir,
  tinyModelDir,
  tinyTrainFlags,
} from './helpers.js';
import {
  type BuiltWorkers,
  buildCli,
  buildQueueWorker,
  startProcess,
  startWorker,
  type WorkerProcess,
} from './queue-harness.js';
import { type RedisHandle, startRedis } from './redis-server.js';

let redis: RedisHandle;
let built: BuiltWorkers;
let modelDir: string;
const running: WorkerProcess[] = [];

beforeAll(async () => {
  [redis, built, modelDir] = await Promise.all([startRedis(), buildQueueWorker(), tinyModelDir()]);
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((w) => w.kill9()));
  built?.cleanup();
  await redis?.stop();
});

/** metrics.jsonl without wall-clock and queue bookkeeping fields. */
function trajectory(runDir: string) {
  return deterministicMetrics(runDir).map((m) =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('queue/'))),
  );
}

// Fits of 30 steps: long enough for a kill to land inside one.
const flags = (runs: string) => [...tinyTrainFlags(modelDir, runs), '--saliency-steps', '30'];

/** Polls `cond` every 50 ms; fails after 120 s naming what it waited for and the output so far. */
async function until(
  cond: () => Promise<boolean>,
  what: string,
  output: WorkerProcess | string[],
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > 120_000) {
      const lines = Array.isArray(output) ? output : output.lines;
      throw new Error(`timed out waiting for ${what}:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

let reference: Promise<ReturnType<typeof trajectory>> | undefined;
/** The 4-step in-process trajectory (worker count 0), computed once. */
function inProcess() {
  reference ??= (async () => {
    const hereRuns = tempDir();
    const code = await runCli(
      ['train', ...flags(hereRuns), '--max-steps', '4', '--workers', '0'],
      captureIO().io,
      COMMANDS,
    );
    if (code !== 0) throw new Error(`in-process reference run exited ${code}`);
    return trajectory(join(hereRuns, readdirSync(hereRuns)[0]!));
  })();
  return reference;
}

describe('atmanrl train --queue', () => {
  it('3 steps on 3 worker processes equal the in-process run, through a kill -9 mid-step; no workers: exit 1, resumable', async () => {
    const want = await inProcess();

    const ws = Array.from({ length: 3 }, () =>
      startWorker(built, redis.url, ['--lock-ms', '1000', '--stalled-check-ms', '500']),
    );
    running.push(...ws);
    await Promise.all(ws.map((w) => w.waitFor(/taking jobs/)));
    const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
    const queue = new Queue(DEFAULT_QUEUE, { connection: client, prefix: BULL_PREFIX });
    const runs = tempDir();
    const a = captureIO();
    const training = runCli(
      ['train', ...flags(runs), '--max-steps', '3', '--queue', redis.url, '--queue-timeout', '60'],
      a.io,
      COMMANDS,
    );
    // Kill the worker running a fit of step 2.
    let victim: WorkerProcess | undefined;
    while (victim === undefined) {
      const active = await queue.getJobs(['active']);
      const j = active.find((x) => x?.name === 'fit' && /\.s2\./.test(x.id ?? '') && x.processedBy);
      victim = j ? ws.find((w) => j.processedBy!.endsWith(`pid ${w.pid}`)) : undefined;
      if (victim === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    await victim.kill9();
    expect(await training).toBe(0);
    await queue.close();
    client.disconnect();
    expect(a.out.join('\n')).toMatch(/queue: redis:\/\/127\.0\.0\.1:\d+, 3 workers connected now/);
    const dir = join(runs, readdirSync(runs)[0]!);
    expect(trajectory(dir)).toEqual(want.slice(0, 3));
    const last = JSON.parse(
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')[2]!,
    );
    // the killed worker's heartbeat lapses within 4 s: 2 or, right after the kill, still 3
    expect([2, 3]).toContain(last.metrics['queue/workers']);
    expect(last.metrics['queue/worker0_busy']).toBeGreaterThanOrEqual(0);

    // Every worker gone: the trainer waits, says so, gives up after --queue-timeout, exit 1.
    await Promise.all(ws.map((w) => w.stop()));
    const b = captureIO();
    expect(
      await runCli(
        ['train', '--resume', dir, '--max-steps', '4', '--queue-timeout', '2'],
        b.io,
        COMMANDS,
      ),
    ).toBe(1);
    expect(b.err.join('\n')).toMatch(/waiting for queue workers: none connected/);
    expect(b.err.join('\n')).toMatch(
      /no queue worker was connected .* for 2 s .*resume the run with --resume/,
    );
    // Resumable: with a worker back, the run ends on the in-process trajectory.
    const w = startWorker(built, redis.url);
    running.push(w);
    const c = captureIO();
    expect(await runCli(['train', '--resume', dir, '--max-steps', '4'], c.io, COMMANDS)).toBe(0);
    await w.stop();
    expect(trajectory(dir)).toEqual(want);
  }, 240_000);

  it('a trainer killed with kill -9 mid-step resumes to the same trajectory; its queued jobs are discarded', async () => {
    const want = await inProcess();
    const { cli, cleanup } = await buildCli();
    const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null });
    // A queue error ends the process (exit 1): no Redis client is left reconnecting.
    const unreachable = startProcess(built, [
      cli,
      'train',
      ...flags(tempDir()),
      '--queue',
      'redis://127.0.0.1:1',
      '--queue-timeout',
      '2',
    ]);
    running.push(unreachable);
    expect(await unreachable.exit).toBe(1);
    expect(unreachable.lines.join('\n')).toMatch(
      /Redis at redis:\/\/127\.0\.0\.1:1 was unreachable for 2 s/,
    );
    const runs = tempDir();
    const fast = ['--lock-ms', '1000', '--stalled-check-ms', '500'];
    const w1 = startWorker(built, redis.url, fast);
    running.push(w1);
    await w1.waitFor(/taking jobs/);
    const trainer = startProcess(built, [
      cli,
      'train',
      ...flags(runs),
      '--max-steps',
      '4',
      '--checkpoint-every',
      '1',
      '--queue',
      redis.url,
      '--queue-weights-dir',
      tempDir('weights-'),
    ]);
    running.push(trainer);
    try {
      const jobs = new Queue(DEFAULT_QUEUE, { connection: client, prefix: BULL_PREFIX });
      // Step 1 done and checkpointed; then the worker dies, so step 2's jobs stay queued.
      await trainer.waitFor(/^step 1\/4 /, 120_000);
      await w1.kill9();
      // The next step's jobs wait, or were taken by w1 and stay active under its dead lock.
      await until(
        async () => {
          const n = await jobs.getJobCounts('wait', 'active');
          return (n.wait ?? 0) + (n.active ?? 0) > 0;
        },
        'queued jobs',
        trainer,
      );
      await trainer.kill9();
      // A job w1 held keeps its lock for --lock-ms (1000 ms) after the kill; then it can be removed.
      await new Promise((r) => setTimeout(r, 1500));
      const [dir] = readdirSync(runs);
      // Resume first: the new trainer drops the dead one's queued jobs before a worker takes them.
      const c = captureIO();
      const resumed = runCli(['train', '--resume', join(runs, dir!)], c.io, COMMANDS);
      await until(
        async () => c.err.some((l) => l.includes('discarded')),
        'the discard line',
        c.err,
      );
      const w2 = startWorker(built, redis.url, fast);
      running.push(w2);
      expect(await resumed).toBe(0);
      await w2.stop();
      await jobs.close();
      expect(c.out.join('\n')).toMatch(/resumed at step 1/);
      expect(c.err.join('\n')).toMatch(
        new RegExp(`queue: discarded \\d+ jobs left by an earlier trainer of run ${dir}`),
      );
      expect(trajectory(join(runs, dir!))).toEqual(want);
    } finally {
      client.disconnect();
      cleanup();
    }
  }, 240_000);
});
