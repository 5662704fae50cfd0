// The --queue wiring outside the queue itself: run.json keeps the URL without its password, a
// resume given the same URL is no change, the experiment passes the queue keys to its training
// jobs, a QueueError is a user error (exit 1), and the wait lines of a step without a terminal.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trainJobArgv } from '../src/_internal/experiment.js';
import { StepProgress } from '../src/_internal/progress.js';
import { QueueError } from '../src/_internal/queue/index.js';
import { redactQueueUrl } from '../src/_internal/queue/redact.js';
import { RESUMABLE, resumedConfig } from '../src/_internal/resume.js';
import { createRun } from '../src/_internal/run-setup.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { defaultConfig, type RunConfig } from '../src/config.js';
import { toUserError } from '../src/errors.js';
import { captureIO, tempDir } from './helpers.js';

const URL_PW = 'redis://atman:s3cret-pw@10.0.0.5:6379/2';

describe('--queue in run.json', () => {
  it('redacts only the password', () => {
    expect(redactQueueUrl(URL_PW)).toBe('redis://atman:***@10.0.0.5:6379/2');
    expect(redactQueueUrl('rediss://:pw@host:6380')).toBe('rediss://:***@host:6380');
    expect(redactQueueUrl('redis://atman@host:6379')).toBe('redis://atman@host:6379');
    expect(redactQueueUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
  });

  it('run.json stores the URL without its password', () => {
    const runsDir = tempDir('runs-');
    const config: RunConfig = { ...defaultConfig(), runsDir, queue: URL_PW };
    const run = createRun(config, 'train', { name: 'cpu', detail: 'cpu' }, 2);
    try {
      const text = readFileSync(`${run.dir}/run.json`, 'utf8');
      expect(text).not.toContain('s3cret-pw');
      const info = JSON.parse(text) as { config: RunConfig };
      expect(info.config.queue).toBe('redis://atman:***@10.0.0.5:6379/2');
    } finally {
      run.close();
    }
  });

  it('a resume given the same URL again is not a change, and uses the given URL', () => {
    const stored = { ...defaultConfig(), queue: 'redis://atman:***@10.0.0.5:6379/2' };
    const given = { ...defaultConfig(), resume: 'r', queue: URL_PW };
    const same = resumedConfig(stored, given, new Set(['queue']), 'r');
    expect(same.config.queue).toBe(URL_PW);
    expect(same.changes).toEqual({});
    // another host is a change, recorded without the password
    const other = resumedConfig(
      stored,
      { ...given, queue: 'redis://atman:other-pw@10.0.0.6:6379/2' },
      new Set(['queue']),
      'r',
    );
    expect(other.changes).toEqual({
      queue: { from: 'redis://atman:***@10.0.0.5:6379/2', to: 'redis://atman:***@10.0.0.6:6379/2' },
    });
    // to the local worker threads
    const local = resumedConfig(stored, { ...given, queue: null }, new Set(['queue']), 'r');
    expect(local.config.queue).toBeNull();
    expect(local.changes['queue']).toEqual({ from: stored.queue, to: null });
    for (const k of ['queue', 'queueTimeout', 'queueWeightsDir'] as const)
      expect(RESUMABLE).toContain(k);
  });

  it('a resume without --queue of a run whose URL had a password says to give it again', () => {
    const stored = { ...defaultConfig(), queue: 'redis://atman:***@10.0.0.5:6379/2' };
    expect(() =>
      resumedConfig(stored, { ...defaultConfig(), resume: 'r' }, new Set(), 'r'),
    ).toThrow(
      /--resume r: the run used --queue redis:\/\/atman:\*\*\*@10\.0\.0\.5:6379\/2.*Give --queue with the password again/,
    );
    // without a password there is nothing to give again
    const plain = { ...defaultConfig(), queue: 'redis://10.0.0.5:6379' };
    expect(
      resumedConfig(plain, { ...defaultConfig(), resume: 'r' }, new Set(), 'r').config.queue,
    ).toBe('redis://10.0.0.5:6379');
  });
});

describe('atmanrl experiment --queue', () => {
  const exp = {
    name: 'e',
    model: 'm',
    seeds: [0],
    train: { maxSteps: 2, queueTimeout: 30 },
    eval: {},
    arms: { A: {} },
  };
  const start = { modelDir: '/m', runsDir: '/runs/A-s0', seed: 0, id: 'A-s0' };
  const flag = (argv: string[], name: string) => {
    const i = argv.lastIndexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };

  it('passes the command line queue keys to every training job, over the file', () => {
    const queue = { queue: URL_PW, queueTimeout: 5 };
    const fresh = trainJobArgv(exp, {}, { start, queue });
    expect(flag(fresh, '--queue')).toBe(URL_PW);
    expect(flag(fresh, '--queue-timeout')).toBe('5');
    expect(fresh.filter((a) => a === '--queue-timeout')).toHaveLength(1);
    expect(flag(fresh, '--max-steps')).toBe('2');
    // a resume gets the URL again (run.json has it without its password)
    const resumed = trainJobArgv(exp, {}, { resumeDir: '/runs/A-s0/x', queue });
    expect(resumed).toEqual([
      'train',
      '--resume',
      '/runs/A-s0/x',
      '--queue',
      URL_PW,
      '--queue-timeout',
      '5',
    ]);
  });

  it('without them, a training job runs as the file says', () => {
    const fresh = trainJobArgv(exp, { queue: 'redis://h:6379' }, { start });
    expect(flag(fresh, '--queue')).toBe('redis://h:6379');
    expect(trainJobArgv(exp, {}, { resumeDir: '/d' })).toEqual([
      'train',
      '--resume',
      '/d',
      '--queue-timeout',
      '30',
    ]);
  });
});

describe('the worker command', () => {
  it('is registered; its --help lists its options only, and the queue rows reach train and experiment', async () => {
    const help = async (command: string) => {
      const { io, out } = captureIO();
      expect(await runCli([command, '--help'], io, COMMANDS)).toBe(0);
      return out.join('\n');
    };
    const worker = await help('worker');
    const flags = [...worker.matchAll(/^\| `(--[a-z-]+)`/gm)].map((m) => m[1]);
    expect(flags.sort()).toEqual(['--backend', '--concurrency', '--queue', '--queue-weights-dir']);
    for (const command of ['train', 'demo', 'experiment']) {
      const text = await help(command);
      for (const f of ['--queue', '--queue-timeout', '--queue-weights-dir'])
        expect(text).toContain(`| \`${f}\` |`);
      expect(text).not.toContain('`--concurrency`');
    }
  });

  it('without --queue it exits 1 saying what to give', async () => {
    const { io, err } = captureIO();
    expect(await runCli(['worker'], io, COMMANDS)).toBe(1);
    expect(err.join('\n')).toMatch(/--queue is required/);
  });
});

describe('queue errors and waits', () => {
  it('a QueueError is a user error (QUEUE, exit 1) with its message', () => {
    const e = new QueueError('NO_WORKERS', 'no queue worker was connected for 2 s');
    const u = toUserError(e);
    expect(u?.code).toBe('QUEUE');
    expect(u?.message).toBe('no queue worker was connected for 2 s');
    expect(u?.cause).toBe(e);
  });

  it('without a terminal, a wait prints a line when its kind changes, else every interval', async () => {
    const { io, err } = captureIO();
    const p = new StepProgress(io, 1, 3);
    p.wait(2, 'waiting for queue workers: none connected for 1 s');
    p.wait(2, 'waiting for queue workers: none connected for 2 s'); // same kind, too soon
    p.wait(2, 'waiting for Redis at redis://h:6379 (connecting) for 0 s'); // another kind
    expect(err).toEqual([
      'atmanrl: step 2: waiting for queue workers: none connected for 1 s',
      'atmanrl: step 2: waiting for Redis at redis://h:6379 (connecting) for 0 s',
    ]);
    p.wait(2, 'waiting for Redis at redis://h:6379 (connecting) for 1 s', 0); // interval passed
    expect(err).toHaveLength(3);
    p.wait(2, null);
    p.wait(2, 'waiting for Redis at redis://h:6379 (connecting) for 1 s'); // a new wait
    expect(err).toHaveLength(4);
  });
});
