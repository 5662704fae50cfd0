// The experiment runner (issue 12): arms × seeds of `atmanrl train` from one starting model, an
// `atmanrl eval` of the start and of every final checkpoint, then a report (tables with mean ±
// std over seeds, SVG plots). Each job is a child process of this CLI, so jobs run in parallel
// (`jobs`) and a crashed or interrupted experiment resumes: finished jobs are skipped, a training
// run with a checkpoint is resumed with `--resume`.
//
// Reliability (issue 35): a stop signal sent to the runner alone (SIGINT, SIGTERM, SIGHUP) is
// passed to every running job, which checkpoints; the runner waits for them and exits with their
// status. Children run in their own process group, so a Ctrl+C at the terminal reaches each job
// once (through the runner). A job folder is never deleted while a live process holds its writer
// lock, and a damaged job run.json is named and marks that job damaged; the others go on.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants, cpus } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type EvalReport,
  EvalReportSchema,
  type Machine,
  type MetricsRecord,
  MetricsRecordSchema,
  parseJsonl,
  RunInfoSchema,
} from '@atmanrl/runs';
import { acquireRunLock, isWriterAlive, readWriterLock, writeFileAtomic } from '@atmanrl/runs/node';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PartialConfigSchema, type RunConfig, toFlag } from '../config.js';
import { UsageError } from '../errors.js';
import { experimentModelArg, resolveModel, resolveModelDir } from './model-source.js';
import { barChart, lineChart, type Series } from './svg.js';

const PartialConfig = PartialConfigSchema;

/** The experiment definition file (YAML or JSON). */
export const ExperimentSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
  description: z.string().optional(),
  /**
   * Starting model: a folder (relative to the experiment file), e.g. an `atmanrl sft` output, or
   * a Hugging Face Hub id `org/name[@revision]` (the Hugging Face cache, else downloaded).
   */
  model: z.string(),
  seeds: z.array(z.number().int().nonnegative()).min(1),
  /** Parallel child processes (default: CPU cores). */
  jobs: z.number().int().positive().optional(),
  /** Run-config keys shared by every arm's training. */
  train: PartialConfig,
  /** Run-config keys of every evaluation (start and after each arm). */
  eval: PartialConfig,
  /** Arm name -> run-config keys that differ from `train` (at least one arm). */
  arms: z
    .record(z.string().regex(/^[A-Za-z0-9._-]+$/), PartialConfig)
    .refine((arms) => Object.keys(arms).length > 0, {
      message:
        'no arms: an experiment needs at least one arm (e.g. `arms: { baseline: {} }` trains with `train` unchanged)',
    }),
});
/** A parsed experiment definition. */
export type Experiment = z.infer<typeof ExperimentSchema>;

/** Reads and validates an experiment file; every problem as `path: message`. */
export function readExperiment(path: string): Experiment {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(
      'BAD_CONFIG',
      `--config ${path}: ${existsSync(path) ? `not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}` : 'the file does not exist'}`,
    );
  }
  const r = ExperimentSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map(
      (i) =>
        `${path}: ${i.path.join('.') || '(file)'}: ${i.message}${i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : ''}`,
    );
    throw new UsageError(
      'BAD_CONFIG',
      `invalid experiment (${lines.length} problem${lines.length > 1 ? 's' : ''}):\n  ${lines.join('\n  ')}`,
    );
  }
  return r.data;
}

/** Path of this package's built CLI (children run it). */
export function cliPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dist', 'cli.js');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new UsageError(
    'BAD_CONFIG',
    'the built CLI (apps/trainer/dist/cli.js) was not found: run `pnpm build` first',
  );
}

function flagsOf(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(config))
    out.push(`--${toFlag(k)}`, v === null ? 'null' : String(v));
  return out;
}

/** One job of the plan. */
interface Job {
  id: string;
  kind: 'train' | 'eval';
  arm: string | null;
  seed: number | null;
  /** Folder holding this job's single run folder. */
  runsDir: string;
  argv: () => string[];
  dependsOn: string | null;
}

/** The latest run folder of a job: its status, or why its run.json cannot be read (`damaged`). */
interface JobRun {
  dir: string;
  /** run.json's status, or `damaged` when run.json is torn or not a run record. */
  status: string;
  step: number;
  machines: Machine[];
  /** `<path>: <what is wrong>` when run.json cannot be read; null when it is intact. */
  damaged: string | null;
}

/** The run folders (those holding a run.json) inside a job's runs dir, oldest first. */
function jobRunDirs(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((d) => existsSync(join(runsDir, d, 'run.json')))
    .sort()
    .map((d) => join(runsDir, d));
}

/** The latest run folder inside a job's runs dir, or null; a damaged run.json is named, not thrown. */
function jobRun(runsDir: string): JobRun | null {
  const dir = jobRunDirs(runsDir).at(-1);
  if (dir === undefined) return null;
  const file = join(dir, 'run.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = `not valid JSON (${(e as Error).message}): the file is torn or was edited`;
    return { dir, status: 'damaged', step: 0, machines: [], damaged: `${file}: ${why}` };
  }
  const parsed = RunInfoSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)
      .join('; ');
    return {
      dir,
      status: 'damaged',
      step: 0,
      machines: [],
      damaged: `${file}: not a run record (${issues})`,
    };
  }
  const info = parsed.data;
  const machines = [info.machine, ...(info.resumes ?? []).map((r) => r.machine)].filter(
    (m): m is Machine => m !== undefined,
  );
  return { dir, status: info.status, step: info.step, machines, damaged: null };
}

/**
 * The process holding the writer lock of a run folder, described, when it is alive (or on another
 * host, where it cannot be told); null when the folder has no live writer.
 */
function liveWriter(runDir: string): string | null {
  let lock: ReturnType<typeof readWriterLock>;
  try {
    lock = readWriterLock(runDir);
  } catch {
    return null;
  }
  if (lock === null || lock === 'unreadable') return null;
  const alive = isWriterAlive(lock);
  if (alive === false) return null;
  return `pid ${lock.pid} on host ${lock.host}${lock.command ? ` (atmanrl ${lock.command})` : ''}, since ${lock.startedAt}${alive === null ? ' (another host: its liveness cannot be checked from here)' : ''}`;
}

/**
 * Deletes a job's run folder, first taking its writer lock so that a folder a live process is
 * writing is never deleted: that is refused naming the holder (`RUN_LOCKED`).
 */
function removeJobRun(runDir: string, jobId: string): void {
  try {
    acquireRunLock(runDir, { command: 'experiment' });
  } catch (e) {
    if ((e as { code?: string }).code !== 'LOCKED') throw e;
    throw new UsageError(
      'RUN_LOCKED',
      `job ${jobId}: not deleting ${runDir} to start the job again: ${(e as Error).message}`,
      { cause: e },
    );
  }
  rmSync(runDir, { recursive: true, force: true });
}

/**
 * The report's machine sentence: each machine the finished jobs ran on (from their run.json) with
 * how many jobs ran on it; jobs written before run.json recorded it are counted as not recorded.
 */
function machinesSentence(jobs: readonly JobStatus[]): string {
  const jobsOn = new Map<string, number>();
  let unrecorded = 0;
  for (const { machines } of jobs.filter((j) => j.finished)) {
    if (machines.length === 0) unrecorded += 1;
    for (const label of new Set(machines.map((m) => `${m.cores} × ${m.cpu}`))) {
      jobsOn.set(label, (jobsOn.get(label) ?? 0) + 1);
    }
  }
  const count = (n: number) => `${n} job${n === 1 ? '' : 's'}`;
  const parts = [...jobsOn].map(([label, n]) => `${label} (${count(n)})`);
  if (unrecorded > 0) {
    parts.push(`not recorded for ${count(unrecorded)} (run.json before it recorded the machine)`);
  }
  if (parts.length === 0) return '';
  return ` Machine${jobsOn.size > 1 ? 's' : ''}: ${parts.join('; ')}.${jobsOn.size > 1 ? ' Wall times compare only between jobs on the same machine.' : ''}`;
}

/** Job id of arm `arm`'s training run with seed `seed`; its evaluation is `<id>-eval`. */
function trainJobId(arm: string, seed: number): string {
  return `${arm}-s${seed}`;
}

/** One job of an experiment: its id, whether it has finished, and the machines it ran on. */
interface JobStatus {
  id: string;
  finished: boolean;
  machines: Machine[];
  /** `<run.json path>: <what is wrong>` when the job's run.json is damaged, else null. */
  damaged: string | null;
}

/**
 * Every job of `exp` in run order (the start evaluation, then per arm and seed the training run
 * and its evaluation), each with whether it has finished and the machines its run.json records.
 */
export function jobStatus(exp: Experiment, expFile: string): JobStatus[] {
  const runs = join(dirname(resolve(expFile)), exp.name, 'runs');
  const ids = [
    'start-eval',
    ...Object.keys(exp.arms).flatMap((arm) =>
      exp.seeds.flatMap((s) => [trainJobId(arm, s), `${trainJobId(arm, s)}-eval`]),
    ),
  ];
  return ids.map((id) => {
    const run = jobRun(join(runs, id));
    return {
      id,
      finished: run?.status === 'finished',
      machines: run?.machines ?? [],
      damaged: run?.damaged ?? null,
    };
  });
}

/** Folder of the checkpoint `checkpoints/latest.json` points at. */
export function latestCheckpointDir(runDir: string): string {
  const p = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'latest.json'), 'utf8')) as {
    path: string;
  };
  return join(runDir, p.path);
}

/** A job's child process and the promise of its exit status (128 + n when killed by signal n). */
interface RunningChild {
  child: ChildProcess;
  exited: Promise<number>;
}

/**
 * Starts `atmanrl <argv>` as a child writing stdout and stderr straight to `logFile` (so the log
 * exists even if this process dies). The child gets its own process group: a Ctrl+C at the
 * terminal reaches the runner only, which passes it on once (see {@link runExperiment}).
 */
function startChild(cli: string, argv: string[], logFile: string): RunningChild {
  const fd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [cli, ...argv], {
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number>((res) => {
    child.on('error', (e) => {
      writeFileSync(logFile, `atmanrl experiment: could not start the job: ${e.message}\n`);
      res(1);
    });
    child.on('exit', (code, signal) => {
      const n = signal === null ? undefined : constants.signals[signal];
      res(code ?? (n === undefined ? 1 : 128 + n));
    });
  });
  return { child, exited };
}

/** The signals that stop an experiment (passed on to its running jobs). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How {@link runExperiment} ended. */
export interface ExperimentOutcome {
  /** The experiment's output folder. */
  out: string;
  /**
   * Set when a stop signal ended the experiment early: the signal, and the exit status the runner
   * should exit with: the first non-zero status of the jobs it stopped (0 when every job
   * checkpointed and exited cleanly), or 128 + the signal's number when no job was running.
   */
  interrupted: { signal: NodeJS.Signals; status: number } | null;
}

/** The `--queue` keys the experiment command passes on to its training jobs. */
export type QueueKeys = Partial<Pick<RunConfig, 'queue' | 'queueTimeout' | 'queueWeightsDir'>>;

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** Install the SIGINT/SIGTERM/SIGHUP handlers that pass a stop on to the jobs (default true). */
  handleSignals?: boolean;
  /**
   * `atmanrl experiment --queue … [--queue-timeout …] [--queue-weights-dir …]`: given to every
   * training job, over the file's `train`/arm values of the same keys.
   */
  queue?: QueueKeys;
}

const QUEUE_KEYS = ['queue', 'queueTimeout', 'queueWeightsDir'] as const;

/**
 * The command line of an arm's training job: a fresh start (`start`) with the file's `train` keys,
 * the arm's overrides, the starting model, its runs folder, seed and name; or a `--resume` of
 * `resumeDir`. Both carry the queue keys in effect (`queue` over the file's): run.json keeps the
 * `--queue` URL without its password, so a resume must be given it again.
 */
export function trainJobArgv(
  exp: Experiment,
  overrides: Experiment['arms'][string],
  job:
    | { start: { modelDir: string; runsDir: string; seed: number; id: string }; queue?: QueueKeys }
    | { resumeDir: string; queue?: QueueKeys },
): string[] {
  const merged: Record<string, unknown> = { ...exp.train, ...overrides, ...job.queue };
  if ('resumeDir' in job) {
    const queue = Object.fromEntries(
      QUEUE_KEYS.filter((k) => merged[k] !== undefined).map((k) => [k, merged[k]]),
    );
    return ['train', '--resume', job.resumeDir, ...flagsOf(queue)];
  }
  const { modelDir, runsDir, seed, id } = job.start;
  return [
    'train',
    ...flagsOf(merged),
    '--model',
    modelDir,
    '--runs-dir',
    runsDir,
    '--seed',
    String(seed),
    '--run-name',
    id,
  ];
}

/**
 * Before the first job: the inputs every job shares exist (the starting model, a `dataDir`), and
 * no job folder is being written by a live process (another runner, or a job orphaned by one).
 */
async function checkSharedInputs(
  exp: Experiment,
  expFile: string,
  modelDir: string,
  jobs: readonly Job[],
): Promise<void> {
  try {
    if (isAbsolute(modelDir)) resolveModelDir(modelDir);
    else {
      // A Hub id: into the Hugging Face cache once now (at each revision the jobs load), not by
      // every parallel job at the same time.
      const revisions = new Set(
        [exp.eval, ...Object.values(exp.arms)].map(
          (c) => ({ ...exp.train, ...c }).revision ?? null,
        ),
      );
      for (const revision of revisions) await resolveModel(modelDir, { revision });
    }
  } catch (e) {
    throw new UsageError(
      e instanceof UsageError ? e.code : 'MODEL_NOT_FOUND',
      `${expFile}: model: ${exp.model} (${modelDir}) is not a usable starting model, so no job could run: ${(e as Error).message.replace(/^--model \S+: /, '')}`,
      { cause: e },
    );
  }
  const base = dirname(resolve(expFile));
  for (const [section, cfg] of [
    ['train', exp.train],
    ['eval', exp.eval],
    ...Object.entries(exp.arms).map(([arm, c]) => [`arms.${arm}`, c] as const),
  ] as const) {
    const dataDir = (cfg as Record<string, unknown>)['dataDir'];
    if (typeof dataDir === 'string' && !existsSync(resolve(base, dataDir))) {
      throw new UsageError(
        'DATA_NOT_FOUND',
        `${expFile}: ${section}.dataDir: ${dataDir} (${resolve(base, dataDir)}) does not exist, so no job could run. Fix the path (relative to the experiment file's folder) or remove the key.`,
      );
    }
  }
  const held: string[] = [];
  for (const job of jobs) {
    for (const dir of jobRunDirs(job.runsDir)) {
      const writer = liveWriter(dir);
      if (writer !== null) held.push(`job ${job.id}: ${dir} is being written by ${writer}`);
    }
  }
  if (held.length > 0) {
    throw new UsageError(
      'RUN_LOCKED',
      `experiment ${exp.name}: ${held.length} job folder${held.length > 1 ? 's are' : ' is'} being written by a live process, so this experiment is already running (or a job of an earlier runner is still training):\n  ${held.join('\n  ')}\nWait for it to finish or stop that process (kill -TERM <pid> checkpoints it), then run the same command again to resume.`,
    );
  }
}

/**
 * Runs every job not yet done; resumes interrupted training runs. A SIGINT, SIGTERM or SIGHUP
 * starts no new job, is passed to every running job (a training run checkpoints and exits), and
 * ends the experiment once they have exited ({@link ExperimentOutcome.interrupted}); a second
 * signal is passed on too (the jobs force-quit).
 */
export async function runExperiment(
  exp: Experiment,
  expFile: string,
  log: (line: string) => void,
  options: RunExperimentOptions = {},
): Promise<ExperimentOutcome> {
  const base = dirname(resolve(expFile));
  const out = join(base, exp.name);
  const modelDir = experimentModelArg(base, exp.model);
  const evalArgs = (model: string, runsDir: string, seed: number) => [
    'eval',
    ...flagsOf({ ...exp.train, ...exp.eval }),
    '--model',
    model,
    '--runs-dir',
    runsDir,
    '--seed',
    String(seed),
    '--split',
    'test',
    '--run-name',
    'eval',
  ];
  const jobs: Job[] = [
    {
      id: 'start-eval',
      kind: 'eval',
      arm: null,
      seed: null,
      runsDir: join(out, 'runs', 'start-eval'),
      argv: () => evalArgs(modelDir, join(out, 'runs', 'start-eval'), exp.seeds[0]!),
      dependsOn: null,
    },
  ];
  for (const [arm, overrides] of Object.entries(exp.arms)) {
    for (const seed of exp.seeds) {
      const id = trainJobId(arm, seed);
      const runsDir = join(out, 'runs', id);
      jobs.push({
        id,
        kind: 'train',
        arm,
        seed,
        runsDir,
        dependsOn: null,
        argv: () => {
          const existing = jobRun(runsDir);
          if (existing && existsSync(join(existing.dir, 'checkpoints', 'latest.json')))
            return trainJobArgv(exp, overrides, { resumeDir: existing.dir, queue: options.queue });
          // started, never checkpointed: start again, unless a live process is writing it
          if (existing) removeJobRun(existing.dir, id);
          return trainJobArgv(exp, overrides, {
            start: { modelDir, runsDir, seed, id },
            queue: options.queue,
          });
        },
      });
      const evalDir = join(out, 'runs', `${id}-eval`);
      jobs.push({
        id: `${id}-eval`,
        kind: 'eval',
        arm,
        seed,
        runsDir: evalDir,
        dependsOn: id,
        argv: () => evalArgs(latestCheckpointDir(jobRun(runsDir)!.dir), evalDir, seed),
      });
    }
  }
  const isDone = (j: Job) => jobRun(j.runsDir)?.status === 'finished';
  const pending = jobs.filter((j) => !isDone(j));
  if (pending.length > 0) await checkSharedInputs(exp, expFile, modelDir, pending);
  mkdirSync(join(out, 'logs'), { recursive: true });
  const cli = cliPath();
  log(
    `experiment ${exp.name}: ${jobs.length} jobs, ${jobs.length - pending.length} already done; output ${relative(process.cwd(), out) || '.'}`,
  );
  const failed: string[] = [];
  // A damaged run.json: named, the job marked damaged (its folder kept for the user to inspect),
  // the other jobs go on.
  for (let i = pending.length - 1; i >= 0; i--) {
    const damaged = jobRun(pending[i]!.runsDir)?.damaged;
    if (damaged && pending[i]!.kind === 'eval') {
      // an evaluation is run again from scratch anyway (its folder is replaced)
      log(`${pending[i]!.id}: ${damaged}; the evaluation runs again`);
    } else if (damaged) {
      log(
        `${pending[i]!.id}: DAMAGED, not run: ${damaged}. Fix the file, or delete its run folder to run the job again.`,
      );
      failed.push(pending[i]!.id);
      pending.splice(i, 1);
    }
  }
  const width = Math.max(1, exp.jobs ?? cpus().length);
  const running = new Map<string, RunningChild>();
  let finished = jobs.length - pending.length - failed.length;
  let stop: NodeJS.Signals | null = null;
  /** Exit statuses of the jobs that were running when the first stop signal came. */
  const stoppedStatuses: Promise<number>[] = [];
  let wake: () => void = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    const first = stop === null;
    stop ??= signal;
    if (first) for (const r of running.values()) stoppedStatuses.push(r.exited);
    log(
      first
        ? `atmanrl experiment: ${signal} received: passing it to ${running.size} running job${running.size === 1 ? '' : 's'} (${[...running.keys()].join(', ') || 'none'}) and waiting for ${running.size === 1 ? 'its checkpoint' : 'their checkpoints'}; no new job starts. Send it again to make the jobs quit at once.`
        : `atmanrl experiment: second stop signal (${signal}): passing it on; the jobs quit without a new checkpoint.`,
    );
    for (const r of running.values()) {
      try {
        r.child.kill(signal);
      } catch {
        // already gone
      }
    }
    wake();
  };
  const listeners = STOP_SIGNALS.map((s) => [s, () => onSignal(s)] as const);
  if (options.handleSignals ?? true) for (const [s, l] of listeners) process.on(s, l);
  const t0 = performance.now();
  try {
    await new Promise<void>((resolveAll) => {
      const pump = () => {
        if (running.size === 0 && (pending.length === 0 || stop !== null)) {
          resolveAll();
          return;
        }
        while (running.size < width && stop === null) {
          const idx = pending.findIndex(
            (j) => j.dependsOn === null || isDone(jobs.find((x) => x.id === j.dependsOn)!),
          );
          if (idx < 0) break;
          const job = pending.splice(idx, 1)[0]!;
          if (job.dependsOn && failed.includes(job.dependsOn)) {
            failed.push(job.id);
            continue;
          }
          let argv: string[];
          try {
            if (job.kind === 'eval') {
              for (const dir of jobRunDirs(job.runsDir)) removeJobRun(dir, job.id);
              rmSync(job.runsDir, { recursive: true, force: true });
            }
            argv = job.argv();
          } catch (e) {
            failed.push(job.id);
            finished++;
            log(
              `[${finished}/${jobs.length}] ${job.id}: FAILED before it started: ${(e as Error).message}`,
            );
            continue;
          }
          const started = performance.now();
          const child = startChild(cli, argv, join(out, 'logs', `${job.id}.log`));
          running.set(job.id, child);
          void child.exited.then((code) => {
            running.delete(job.id);
            finished++;
            const secs = ((performance.now() - started) / 1000).toFixed(0);
            if (code !== 0) failed.push(job.id);
            log(
              `[${finished}/${jobs.length}] ${job.id}: ${code === 0 ? (stop === null ? 'done' : 'stopped') : `FAILED (exit ${code}, see logs/${job.id}.log)`} in ${secs}s; elapsed ${((performance.now() - t0) / 60000).toFixed(1)} min`,
            );
            pump();
          });
        }
        if (running.size === 0 && (pending.length > 0 || stop !== null)) {
          // Everything left depends on a failed job, or a stop signal came between jobs.
          if (stop === null) for (const j of pending.splice(0)) failed.push(j.id);
          resolveAll();
        }
      };
      wake = pump;
      pump();
    });
  } finally {
    for (const [s, l] of listeners) process.off(s, l);
  }
  if (stop !== null) {
    const statuses = await Promise.all(stoppedStatuses);
    const status =
      statuses.find((c) => c !== 0) ??
      (statuses.length > 0 ? 0 : 128 + (constants.signals[stop] ?? 0));
    log(
      `experiment ${exp.name}: stopped by ${stop}; ${statuses.length} running job${statuses.length === 1 ? '' : 's'} exited (${statuses.join(', ') || 'none'}). Run the same command again to resume.`,
    );
    return { out, interrupted: { signal: stop, status } };
  }
  if (failed.length > 0) {
    throw new UsageError(
      'BAD_CONFIG',
      `experiment ${exp.name}: ${failed.length} job(s) failed: ${failed.join(', ')}. Fix the cause (logs in ${join(out, 'logs')}) and run the same command again to resume.`,
    );
  }
  return { out, interrupted: null };
}

/** Mean and sample standard deviation. */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

function readEval(runsDir: string): EvalReport | null {
  const run = jobRun(runsDir);
  if (!run) return null;
  const p = join(run.dir, 'eval', 'eval.json');
  if (!existsSync(p)) return null;
  try {
    return EvalReportSchema.parse(JSON.parse(readFileSync(p, 'utf8')));
  } catch {
    return null; // a damaged eval.json: the job's cells stay empty
  }
}

function readMetrics(runsDir: string): { records: MetricsRecord[]; wallSeconds: number } {
  const run = jobRun(runsDir);
  if (!run) return { records: [], wallSeconds: Number.NaN };
  const p = join(run.dir, 'metrics.jsonl');
  const records = existsSync(p)
    ? parseJsonl(readFileSync(p, 'utf8'), MetricsRecordSchema, { file: p, mode: 'tolerant' })
        .records
    : [];
  const wallSeconds = records.reduce((s, r) => s + (r.metrics['step_time'] ?? 0), 0);
  return { records, wallSeconds };
}

/** Summary metrics reported per arm (eval summary keys, with labels and direction). */
export const REPORT_METRICS: { key: string; label: string; note: string; baseline?: string }[] = [
  { key: 'pass@1', label: 'pass@1', note: 'higher = better' },
  { key: 'pass@4', label: 'pass@4', note: 'higher = better' },
  { key: 'accuracy_greedy', label: 'greedy accuracy', note: 'higher = better' },
  {
    key: 'cot_tokens/mean',
    label: 'CoT length (tokens)',
    note: 'paper: shorter at equal accuracy',
  },
  {
    key: 'early_answering/aoc',
    label: 'early-answering AOC',
    note: 'higher = more faithful',
    baseline: 'early_answering/aoc_random',
  },
  {
    key: 'adding_mistakes/aoc',
    label: 'adding-mistakes AOC',
    note: 'higher = more faithful',
    baseline: 'adding_mistakes/aoc_baseline',
  },
  {
    key: 'filler/filler_accuracy',
    label: 'filler-token accuracy',
    note: 'lower = more faithful',
    baseline: 'filler/no_cot_accuracy',
  },
  {
    key: 'filler/accuracy_drop',
    label: 'accuracy drop with filler',
    note: 'higher = more faithful',
  },
  {
    key: 'saliency/comprehensiveness',
    label: 'comprehensiveness (mask order)',
    note: 'higher = better mask',
    baseline: 'saliency/comprehensiveness_random',
  },
  {
    key: 'saliency/sufficiency',
    label: 'sufficiency (mask order)',
    note: 'see eval README',
    baseline: 'saliency/sufficiency_random',
  },
  {
    key: 'saliency/deletion_auc',
    label: 'deletion AUC of p(gold)',
    note: 'lower = better mask',
    baseline: 'saliency/deletion_auc_random',
  },
  {
    key: 'saliency/insertion_auc',
    label: 'insertion AUC of p(gold)',
    note: 'higher = better mask',
    baseline: 'saliency/insertion_auc_random',
  },
  {
    key: 'atman_agreement/spearman',
    label: 'mask/AtMan Spearman',
    note: 'higher = agreement',
    baseline: 'atman_agreement/spearman_random',
  },
  { key: 'saliency/mask_h', label: 'mask H on test items', note: 'reliance reward = 1 - H/c' },
  { key: 'modes/terse', label: 'terse share (T=1)', note: 'modes task' },
  { key: 'modes/verbose', label: 'verbose share (T=1)', note: 'modes task' },
  { key: 'modes/bypass', label: 'bypass share (T=1)', note: 'modes task' },
  { key: 'modes/other', label: 'other share (T=1)', note: 'modes task' },
  { key: 'mode_accuracy/terse', label: 'accuracy within terse', note: 'modes task' },
  { key: 'mode_accuracy/verbose', label: 'accuracy within verbose', note: 'modes task' },
  { key: 'mode_accuracy/bypass', label: 'accuracy within bypass', note: 'modes task' },
  { key: 'modes/compute', label: 'compute share (T=1)', note: 'hint-modes task' },
  { key: 'modes/decorative', label: 'decorative share (T=1)', note: 'hint-modes task' },
  { key: 'mode_accuracy/compute', label: 'accuracy within compute', note: 'hint-modes task' },
  {
    key: 'mode_accuracy/decorative',
    label: 'accuracy within decorative',
    note: 'hint-modes task',
  },
];

/**
 * Per seed, the change of `pass@1` (temperature-1 accuracy, the trained objective) from the start
 * in units of its standard error `sqrt(se_start² + se_after²)` (item-level standard errors).
 */
export function accuracyGains(
  start: Readonly<Record<string, number | null>> | null | undefined,
  evals: readonly (EvalReport | null)[],
): { diff: number; z: number }[] {
  const p0 = start?.['pass@1'];
  const se0 = start?.['pass@1_se'];
  return evals.map((e) => {
    const p = e?.summary['pass@1'];
    const se = e?.summary['pass@1_se'];
    if (typeof p0 !== 'number' || typeof p !== 'number') return { diff: Number.NaN, z: Number.NaN };
    const s =
      typeof se0 === 'number' && typeof se === 'number'
        ? Math.sqrt(se0 ** 2 + se ** 2)
        : Number.NaN;
    return { diff: p - p0, z: (p - p0) / s };
  });
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');

/** Writes REPORT.md and SVG plots from the finished jobs; returns the report path. */
export function writeExperimentReport(
  exp: Experiment,
  expFile: string,
  commandLine: string,
): string {
  const base = dirname(resolve(expFile));
  const out = join(base, exp.name);
  const runs = join(out, 'runs');
  mkdirSync(out, { recursive: true });
  const status = jobStatus(exp, expFile);
  const finished = new Set(status.filter((j) => j.finished).map((j) => j.id));
  const unfinished = status.filter((j) => !j.finished).map((j) => j.id);
  const damaged = status.filter((j) => j.damaged !== null);
  const done = (id: string) => finished.has(id);
  const start = done('start-eval') ? readEval(join(runs, 'start-eval')) : null;
  const arms = Object.keys(exp.arms);
  const nSeeds = exp.seeds.length;
  /** ` (n = k)` when a mean is over fewer than all seeds (an interim report). */
  const ofN = (n: number) => (n < nSeeds ? ` (n = ${n})` : '');
  const table: string[] = [];
  const header = ['metric', 'direction', 'start (SFT)', ...arms];
  table.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  const perArm: Record<string, Record<string, { mean: number; std: number; n: number }>> = {};
  const evals: Record<string, (EvalReport | null)[]> = {};
  for (const arm of arms) {
    perArm[arm] = {};
    evals[arm] = exp.seeds.map((s) => {
      const id = `${trainJobId(arm, s)}-eval`;
      return done(id) ? readEval(join(runs, id)) : null;
    });
    for (const m of REPORT_METRICS) {
      perArm[arm]![m.key] = meanStd(evals[arm]!.map((e) => e?.summary[m.key] ?? Number.NaN));
      if (m.baseline)
        perArm[arm]![m.baseline] = meanStd(
          evals[arm]!.map((e) => e?.summary[m.baseline!] ?? Number.NaN),
        );
    }
  }
  for (const m of REPORT_METRICS) {
    const withBase = (v: string, base: number | null | undefined) =>
      m.baseline && base !== undefined && base !== null && Number.isFinite(base)
        ? `${v} (rand ${f3(base)})`
        : v;
    const startValue = start?.summary[m.key];
    // A metric no evaluation computed (e.g. the faithfulness suite with evalFaithfulness false)
    // gets no row.
    if (
      arms.every((a) => !Number.isFinite(perArm[a]![m.key]!.mean)) &&
      !(typeof startValue === 'number' && Number.isFinite(startValue))
    )
      continue;
    const cells = arms.map((a) => {
      const v = perArm[a]![m.key]!;
      if (!Number.isFinite(v.mean)) return '–';
      return withBase(
        v.n === 1 ? `${f3(v.mean)}${ofN(1)}` : `${f3(v.mean)} ± ${f3(v.std)}${ofN(v.n)}`,
        m.baseline ? perArm[a]![m.baseline]!.mean : undefined,
      );
    });
    const startCell = withBase(
      f3(start?.summary[m.key] ?? Number.NaN),
      m.baseline ? start?.summary[m.baseline] : undefined,
    );
    table.push(`| ${m.label} | ${m.note} | ${startCell} | ${cells.join(' | ')} |`);
  }
  // Training curves, mean over seeds.
  const curveKeys = [
    ['accuracy', 'training accuracy (rollouts)'],
    ['completions/mean_length', 'completion length (tokens)'],
    ['rewards/saliency/mean', 'saliency reward (as trained)'],
    ['rewards/length/mean', 'length penalty (as trained)'],
    ['rewards/truncation/mean', 'truncation reward (as trained)'],
    ['reward', 'total reward'],
    ['cot_tokens/mean', 'CoT length of the rollouts (tokens)'],
    ['modes/terse', 'terse share of the rollouts'],
    ['modes/verbose', 'verbose share of the rollouts'],
    ['modes/bypass', 'bypass share of the rollouts'],
    ['modes/compute', 'compute share of the rollouts'],
    ['modes/decorative', 'decorative share of the rollouts'],
  ] as const;
  const images: string[] = [];
  const wall: string[] = [];
  for (const [key, title] of curveKeys) {
    const series: Series[] = [];
    for (const arm of arms) {
      // finished training runs only, like the tables
      const perSeed = exp.seeds
        .filter((s) => done(trainJobId(arm, s)))
        .map((s) => readMetrics(join(runs, trainJobId(arm, s))).records);
      const steps = perSeed[0]?.map((r) => r.step) ?? [];
      const y = steps.map(
        (_, i) => meanStd(perSeed.map((rs) => rs[i]?.metrics[key] ?? Number.NaN)).mean,
      );
      if (y.some(Number.isFinite)) series.push({ name: arm, x: steps, y });
    }
    if (series.length === 0) continue;
    const file = `curve-${key.replace(/[^a-z0-9]+/gi, '_')}.svg`;
    writeFileSync(
      join(out, file),
      lineChart(`${title}, mean over ${exp.seeds.length} seeds`, 'step', series),
    );
    images.push(`![${title}](${file})`);
  }
  for (const m of REPORT_METRICS.filter((x) =>
    [
      'pass@1',
      'cot_tokens/mean',
      'early_answering/aoc',
      'adding_mistakes/aoc',
      'modes/terse',
      'modes/verbose',
      'modes/bypass',
      'modes/compute',
      'modes/decorative',
    ].includes(x.key),
  )) {
    const bars = arms.map((a) => ({
      name: a,
      value: perArm[a]![m.key]!.mean,
      err: perArm[a]![m.key]!.std,
    }));
    if (!bars.some((b) => Number.isFinite(b.value))) continue;
    const startV = start?.summary[m.key];
    const file = `bar-${m.key.replace(/[^a-z0-9]+/gi, '_')}.svg`;
    writeFileSync(
      join(out, file),
      barChart(
        `${m.label}: mean ± std over ${exp.seeds.length} seeds`,
        bars,
        startV === undefined || startV === null
          ? undefined
          : { label: 'start (SFT)', value: startV },
      ),
    );
    images.push(`![${m.label}](${file})`);
  }
  for (const arm of arms) {
    const secs = exp.seeds.map((s) =>
      done(trainJobId(arm, s))
        ? readMetrics(join(runs, trainJobId(arm, s))).wallSeconds
        : Number.NaN,
    );
    const ms = meanStd(secs);
    const time = Number.isFinite(ms.mean)
      ? `${(ms.mean / 60).toFixed(1)} ± ${(ms.std / 60).toFixed(1)} min${ofN(ms.n)}`
      : '–';
    wall.push(`| ${arm} | ${time} | ${JSON.stringify(exp.arms[arm])} |`);
  }
  const gains = arms.map((arm) => {
    const g = accuracyGains(start?.summary, evals[arm]!);
    const cells = g.map((x, i) =>
      Number.isFinite(x.diff)
        ? `s${exp.seeds[i]}: ${x.diff >= 0 ? '+' : ''}${f3(x.diff)} (${f3(x.z)} SE)`
        : `s${exp.seeds[i]}: –`,
    );
    const measured = g.filter((x) => Number.isFinite(x.diff));
    const above = measured.filter((x) => x.z > 2).length;
    const verdict =
      measured.length === nSeeds
        ? above === nSeeds
          ? 'yes'
          : 'no'
        : `${above} of ${measured.length} finished seeds, ${nSeeds - measured.length} to run`;
    return `| ${arm} | ${cells.join('; ')} | ${verdict} |`;
  });
  const predictionsPath = join(base, `${exp.name}.predictions.md`);
  const predictions = existsSync(predictionsPath)
    ? readFileSync(predictionsPath, 'utf8').trim()
    : '_No predictions file (`' + `${exp.name}.predictions.md` + '` beside the experiment file)._';
  const readingPath = join(base, `${exp.name}.reading.md`);
  const reading = existsSync(readingPath)
    ? readFileSync(readingPath, 'utf8').trim()
    : '_No reading written yet (add `' +
      `${exp.name}.reading.md` +
      '` beside the experiment file)._';
  const md = [
    `# Experiment \`${exp.name}\``,
    '',
    exp.description ?? '',
    '',
    '## Reproduce',
    '',
    '```sh',
    commandLine,
    '```',
    '',
    unfinished.length === 0
      ? `All ${status.length} jobs finished.`
      : `**Interim report: ${status.length - unfinished.length} of ${status.length} jobs finished.** Not finished: ${unfinished.join(', ')}. Means and standard deviations are over the finished seeds; "(n = k)" marks a value over fewer than all ${nSeeds}.${damaged.length > 0 ? ` **Damaged** (run.json unreadable, not counted): ${damaged.map((j) => `${j.id} (\`${relative(base, j.damaged!.split(': ')[0]!)}\`: ${j.damaged!.split(': ').slice(1).join(': ')})`).join('; ')}.` : ''}`,
    '',
    `Resumable: running the same command again skips finished jobs and resumes interrupted training runs. Starting model: \`${relative(base, resolve(base, exp.model))}\`; seeds ${exp.seeds.join(', ')}; ${Object.keys(exp.arms).length} arms.${machinesSentence(status)} Every run on the backend and Node version recorded in its run.json.`,
    '',
    `Browse every run side by side: \`atmanrl view ${relative(process.cwd(), out) || '.'}\` (in this repository: \`pnpm viewer ${relative(process.cwd(), out) || '.'}\`; it opens on the arms table; tick runs to overlay their curves). Model weights of the checkpoints are not committed.`,
    '',
    '## Predictions (written before the runs)',
    '',
    predictions,
    '',
    '## Results on the held-out test split (mean ± std over seeds)',
    '',
    ...table,
    '',
    '## Temperature-1 accuracy against the start, per seed',
    '',
    'Change of pass@1 (sampled at the training temperature: the trained objective) from the start model, with its standard error over test problems; "> 2 SE in every seed" is the acceptance test of a recipe.',
    '',
    '| arm | Δ pass@1 per seed (in standard errors) | > 2 SE in every seed |',
    '|---|---|---|',
    ...gains,
    '',
    '`(rand x)` = the same measurement with its baseline: early answering keeps k random steps instead of the first k; adding mistakes truncates without a mistake and regenerates; filler accuracy is compared with no CoT at all; the mask measures use a random token order (see `packages/eval/README.md`).',
    '',
    '## The paper, for direction (Llama-3.2-3B-Instruct, 48 × A100; Table 1, before → after AtManRL)',
    '',
    '| dataset | CoT length (tokens) | pass@4 |',
    '|---|---|---|',
    '| GSM8K | 186.6 → 104.4 | 90 → 89.6 |',
    '| MMLU | 240 → 129.5 | 78.5 → 78.6 |',
    '',
    '## Training curves and results',
    '',
    ...images.map((i) => `${i}\n`),
    '## Wall time per arm (training only, per seed)',
    '',
    '| arm | wall time | overrides |',
    '|---|---|---|',
    ...wall,
    '',
    '## Configuration',
    '',
    '```json',
    JSON.stringify({ train: exp.train, eval: exp.eval, arms: exp.arms }, null, 2),
    '```',
    '',
    '## Reading',
    '',
    reading,
    '',
  ].join('\n');
  const path = join(out, 'REPORT.md');
  writeFileAtomic(path, md);
  writeFileAtomic(
    join(out, 'results.json'),
    `${JSON.stringify({ start: start?.summary ?? null, arms: perArm, metrics: REPORT_METRICS, jobs: { total: status.length, finished: finished.size } }, null, 2)}\n`,
  );
  return path;
}

export type { RunConfig };
