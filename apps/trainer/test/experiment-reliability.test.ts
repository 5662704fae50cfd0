// Regression tests of issue 35 for the experiment runner: stop signals sent to the runner's pid
// alone reach its jobs (real child processes), a job folder a live process writes is never
// deleted, a damaged job run.json is named and the other jobs go on, shared inputs are checked
// before the first job, and an experiment without arms is refused. Tiny runs on cpu.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isProcessAlive, RunWriter } from '@atmanrl/runs/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, tempDir, tinyModelDir } from './helpers.js';

let model = '';
beforeAll(async () => {
  model = await tinyModelDir(4);
});

/** Writes an experiment file with one arm `A` and seed 0; returns its path. */
function experimentFile(
  dir: string,
  name: string,
  overrides: { model?: string; maxSteps?: number; arms?: Record<string, unknown> } = {},
): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      model: overrides.model ?? model,
      seeds: [0],
      jobs: 2,
      train: {
        maxSteps: overrides.maxSteps ?? 1,
        checkpointEvery: 1000,
        promptsPerStep: 2,
        numGenerations: 2,
        maxCompletionLength: 6,
        saliencySteps: 2,
        backend: 'cpu',
        workers: 1,
      },
      eval: {
        evalLimit: 2,
        evalSamples: 2,
        saliencySteps: 2,
        maxCompletionLength: 6,
        evalFaithfulness: false,
      },
      arms: overrides.arms ?? { A: { saliencyReward: false } },
    }),
  );
  return file;
}

async function cli(argv: string[]) {
  const cap = captureIO();
  const code = await runCli(argv, cap.io, COMMANDS);
  return { code, out: cap.out.join('\n'), err: cap.err.join('\n') };
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The single run folder of a job, or null while it has none. */
function runOf(expDir: string, job: string): string | null {
  const runs = join(expDir, 'runs', job);
  if (!existsSync(runs)) return null;
  const d = readdirSync(runs).find((x) => existsSync(join(runs, x, 'run.json')));
  return d === undefined ? null : join(runs, d);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('issue 35.2: a stop signal to the runner pid alone reaches its jobs', () => {
  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)(
    '%s: the training job checkpoints, the runner waits for it and exits with its status',
    async (signal) => {
      const dir = tempDir('exp-sig-');
      const file = experimentFile(dir, 'sig', { maxSteps: 100_000 });
      const cli = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
      const runner = spawn(process.execPath, [cli, 'experiment', '--config', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      runner.stdout.on('data', (d) => (output += String(d)));
      runner.stderr.on('data', (d) => (output += String(d)));
      const exited = new Promise<number | null>((ok) => runner.on('exit', (c) => ok(c)));
      const expDir = join(dir, 'sig');
      let childPid = 0;
      try {
        // Wait until the start evaluation has finished and the training job has logged a step.
        for (;;) {
          const train = runOf(expDir, 'A-s0');
          const evalRun = runOf(expDir, 'start-eval');
          if (
            train !== null &&
            evalRun !== null &&
            json(join(evalRun, 'run.json')).status === 'finished' &&
            existsSync(join(train, 'metrics.jsonl')) &&
            readFileSync(join(train, 'metrics.jsonl'), 'utf8').includes('\n') &&
            existsSync(join(train, 'writer.lock'))
          ) {
            childPid = json(join(train, 'writer.lock')).pid;
            break;
          }
          if (runner.exitCode !== null) throw new Error(`the runner exited early:\n${output}`);
          await sleep(100);
        }
        expect(childPid).not.toBe(runner.pid);
        runner.kill(signal); // the runner's pid alone, not its process group
        const code = await exited;
        expect(output).toMatch(new RegExp(`${signal} received: passing it to 1 running job`));
        // the job checkpointed and exited 0 as interrupted, so the runner exits 0
        expect(code).toBe(0);
        expect(isProcessAlive(childPid)).toBe(false);
        const train = runOf(expDir, 'A-s0')!;
        expect(json(join(train, 'run.json')).status).toBe('interrupted');
        expect(existsSync(join(train, 'checkpoints', 'latest.json'))).toBe(true);
        expect(existsSync(join(train, 'writer.lock'))).toBe(false);
        expect(readFileSync(join(expDir, 'logs', 'A-s0.log'), 'utf8')).toMatch(
          /interrupted at step \d+; checkpoint saved/,
        );
      } finally {
        if (runner.exitCode === null) runner.kill('SIGKILL');
        if (childPid > 0 && isProcessAlive(childPid)) process.kill(childPid, 'SIGKILL');
      }
    },
    240_000,
  );
});

describe('issue 35.3: a job folder a live process writes is never deleted', () => {
  it('refuses to run, naming the holder, and keeps the folder', async () => {
    const dir = tempDir('exp-lock-');
    const file = experimentFile(dir, 'lock');
    // A training job that started and has no checkpoint yet, still being written (by this test
    // process: a live pid on this host).
    const live = RunWriter.create({
      runsDir: join(dir, 'lock', 'runs', 'A-s0'),
      command: 'train',
      config: {},
      seed: 0,
      backend: { name: 'cpu' },
      name: 'A-s0',
    });
    try {
      const r = await cli(['experiment', '--config', file]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/job A-s0: .* is being written by pid \d+ on host/);
      expect(r.err).toContain(`pid ${process.pid} on host`);
      expect(r.err).toMatch(/kill -TERM <pid> checkpoints it/);
      expect(existsSync(join(live.dir, 'run.json'))).toBe(true);
      expect(existsSync(join(live.dir, 'writer.lock'))).toBe(true);
      expect(existsSync(join(dir, 'lock', 'logs'))).toBe(false); // no job started
    } finally {
      live.close();
    }
  });
});

describe('issue 35.7: a damaged job run.json', () => {
  it('--report-only names the file, marks the job damaged and reports the others', async () => {
    const dir = tempDir('exp-damaged-');
    const file = experimentFile(dir, 'dmg');
    const torn = join(dir, 'dmg', 'runs', 'A-s0', 'run-1');
    mkdirSync(torn, { recursive: true });
    writeFileSync(join(torn, 'run.json'), '{"version": 1, "id": "run-1", "sta');
    // a complete run record whose status is not one of the statuses
    const evalRun = RunWriter.create({
      runsDir: join(dir, 'dmg', 'runs', 'A-s0-eval'),
      command: 'eval',
      config: {},
      seed: 0,
      backend: { name: 'cpu' },
      name: 'eval',
    });
    evalRun.close();
    const weird = evalRun.dir;
    writeFileSync(
      join(weird, 'run.json'),
      JSON.stringify({ ...json(join(weird, 'run.json')), status: 'weird' }),
    );
    const r = await cli(['experiment', '--config', file, '--report-only']);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`job A-s0 is damaged: ${join(torn, 'run.json')}: not valid JSON`);
    expect(r.err).toContain(
      `job A-s0-eval is damaged: ${join(weird, 'run.json')}: not a run record`,
    );
    expect(r.err).toMatch(/A-s0-eval is damaged: .*\(status: [^)]*\)/);
    const report = readFileSync(join(dir, 'dmg', 'REPORT.md'), 'utf8');
    expect(report).toMatch(
      /\*\*Damaged\*\* .*A-s0 \(`dmg\/runs\/A-s0\/run-1\/run\.json`: not valid JSON/,
    );
  });

  it('the runner names the file, skips that job, runs the others, and exits 1', async () => {
    const dir = tempDir('exp-damaged-');
    const file = experimentFile(dir, 'dmg');
    const torn = join(dir, 'dmg', 'runs', 'A-s0', 'run-1');
    mkdirSync(torn, { recursive: true });
    writeFileSync(join(torn, 'run.json'), '{"version": 1, "id": "run-1", "sta');
    const r = await cli(['experiment', '--config', file]);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`A-s0: DAMAGED, not run: ${join(torn, 'run.json')}: not valid JSON`);
    expect(r.out).toMatch(/start-eval: done/);
    expect(r.err).toMatch(/2 job\(s\) failed: A-s0, A-s0-eval/);
    expect(readFileSync(join(torn, 'run.json'), 'utf8')).toBe('{"version": 1, "id": "run-1", "sta');
  }, 240_000);
});

describe('issue 35.15-16: experiment inputs checked before the first job', () => {
  it('a missing starting model is refused before any job starts', async () => {
    const dir = tempDir('exp-nomodel-');
    const file = experimentFile(dir, 'nomodel', { model: 'no-such-model' });
    const r = await cli(['experiment', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: model: no-such-model (${join(dir, 'no-such-model')})`);
    expect(r.err).toMatch(/does not exist/);
    expect(existsSync(join(dir, 'nomodel', 'runs'))).toBe(false);
    expect(existsSync(join(dir, 'nomodel', 'logs'))).toBe(false);
  });

  it('an experiment without arms is refused', async () => {
    const dir = tempDir('exp-noarms-');
    const file = experimentFile(dir, 'noarms', { arms: {} });
    const r = await cli(['experiment', '--config', file, '--report-only']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/arms: no arms: an experiment needs at least one arm/);
    expect(existsSync(join(dir, 'noarms', 'REPORT.md'))).toBe(false);
  });
});
