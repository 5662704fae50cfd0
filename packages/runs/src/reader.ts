// Reading runs while they are being written: list runs, load one run with everything that
// exists, and follow a growing JSONL file incrementally. Missing pieces become `problems`.
import type { z } from 'zod';
import { RunsError } from './errors.js';
import { parseJsonl, type ReadProblem } from './jsonl.js';
import {
  type CheckpointPointer,
  CheckpointPointerSchema,
  type EvalReport,
  EvalReportSchema,
  type MetricsRecord,
  MetricsRecordSchema,
  type RunInfo,
  RunInfoSchema,
  type SampleRecord,
  SampleRecordSchema,
} from './schemas.js';
import type { RunSource } from './source.js';
import { validateRecord } from './validate.js';

/** File names inside a run directory. */
export const RUN_FILES = {
  run: 'run.json',
  metrics: 'metrics.jsonl',
  samples: 'samples.jsonl',
  evalDir: 'eval',
  checkpointsDir: 'checkpoints',
  latest: 'checkpoints/latest.json',
  /** The writer lock: pid and host of the process writing the run (absent when none is). */
  lock: 'writer.lock',
} as const;

/** Contents of `writer.lock`. */
export interface WriterLock {
  pid: number;
  host: string;
  startedAt: string;
  command?: string;
}

/**
 * Tells whether the process named by a lock is alive: `true`/`false`, or `null` when it cannot
 * be told (a browser, another host). `@atmanrl/runs/node` exports `isWriterAlive` for this machine.
 */
export type WriterCheck = (lock: WriterLock) => boolean | null;

/** Options of {@link loadRun} and {@link listRuns}. */
export interface ReadRunOptions {
  /** Also read `samples.jsonl` (default true; `loadRun` only). */
  samples?: boolean;
  /** Liveness check of the lock holder; without it a run is stale only when its lock is gone. */
  isWriterAlive?: WriterCheck;
}

/**
 * Whether a run marked `running` has lost its writer: `true` when the lock is gone or its process
 * is dead, `null` when that cannot be told, `false` otherwise (and for runs that are not running).
 */
async function staleness(
  source: RunSource,
  runId: string,
  info: RunInfo | null,
  check: WriterCheck | undefined,
): Promise<{ stale: boolean | null; writer: WriterLock | null }> {
  if (info?.status !== 'running') return { stale: false, writer: null };
  const text = await source.readText(`${runId}/${RUN_FILES.lock}`);
  if (text === null) return { stale: true, writer: null };
  let writer: WriterLock | null = null;
  try {
    const v = JSON.parse(text) as WriterLock;
    if (typeof v.pid === 'number' && typeof v.host === 'string') writer = v;
  } catch {
    // torn lock: being created
  }
  if (writer === null) return { stale: null, writer: null };
  const alive = check ? check(writer) : null;
  return { stale: alive === null ? null : !alive, writer };
}

/** Reports metrics lines whose step repeats (with the same metric names) or goes backwards. */
function stepOrderProblems(path: string, metrics: MetricsRecord[]): ReadProblem[] {
  const problems: ReadProblem[] = [];
  let prev: MetricsRecord | undefined;
  metrics.forEach((m, i) => {
    if (prev !== undefined) {
      const overlap = Object.keys(m.metrics).some((k) => k in prev!.metrics);
      if (m.step < prev.step || (m.step === prev.step && overlap)) {
        problems.push({
          file: path,
          line: i + 1,
          code: 'STEP_ORDER',
          message: `${path}: record ${i + 1} is step ${m.step} after step ${prev.step} (${m.step === prev.step ? 'duplicate' : 'out of order'}); two writers may have written this run at once`,
        });
      }
    }
    prev = m;
  });
  return problems;
}

/** Everything readable in one run; what is missing or broken is listed in `problems`. */
export interface LoadedRun {
  id: string;
  info: RunInfo | null;
  metrics: MetricsRecord[];
  samples: SampleRecord[];
  evals: EvalReport[];
  latestCheckpoint: CheckpointPointer | null;
  /** Human-readable problems: missing files, torn lines, invalid lines (with file:line). */
  problems: ReadProblem[];
  /**
   * True when the run says `running` but its writer is gone (no lock, or its process is dead):
   * it was killed. `null` when that cannot be told here.
   */
  stale: boolean | null;
  /** The lock of the process writing the run, when it is running and the lock is readable. */
  writer: WriterLock | null;
}

async function readJson<S extends z.ZodType>(
  source: RunSource,
  path: string,
  schema: S,
  problems: ReadProblem[],
): Promise<z.infer<S> | null> {
  const text = await source.readText(path);
  if (text === null) return null;
  try {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new RunsError('INVALID_JSON', `${path}: not valid JSON (${(e as Error).message})`, {
        file: path,
      });
    }
    return validateRecord(schema, value, { file: path });
  } catch (e) {
    if (!(e instanceof RunsError)) throw e;
    problems.push({ file: path, line: 0, code: e.code, message: e.message });
    return null;
  }
}

async function readJsonlFile<S extends z.ZodType>(
  source: RunSource,
  path: string,
  schema: S,
  problems: ReadProblem[],
): Promise<z.infer<S>[]> {
  const text = await source.readText(path);
  if (text === null) {
    problems.push({
      file: path,
      line: 0,
      code: 'NOT_FOUND',
      message: `${path} does not exist yet`,
    });
    return [];
  }
  const result = parseJsonl(text, schema, { file: path, mode: 'tolerant' });
  problems.push(...result.problems);
  if (result.tornTail) {
    const line = result.records.length + result.problems.length + 1;
    problems.push({
      file: path,
      line,
      code: 'TORN_LINE',
      message: `${path}: the last line is incomplete (being written, or the writer crashed); it was ignored`,
    });
  }
  return result.records;
}

/** Loads one run (`runId` is its folder name under the source root) tolerating partial data. */
export async function loadRun(
  source: RunSource,
  runId: string,
  options: ReadRunOptions = {},
): Promise<LoadedRun> {
  const problems: ReadProblem[] = [];
  const p = (f: string) => `${runId}/${f}`;
  const info = await readJson(source, p(RUN_FILES.run), RunInfoSchema, problems);
  if (info === null && !problems.some((x) => x.file === p(RUN_FILES.run))) {
    problems.push({
      file: p(RUN_FILES.run),
      line: 0,
      code: 'NOT_FOUND',
      message: `${p(RUN_FILES.run)} is missing: not a run folder, or it is still being created`,
    });
  }
  const metrics = await readJsonlFile(source, p(RUN_FILES.metrics), MetricsRecordSchema, problems);
  problems.push(...stepOrderProblems(p(RUN_FILES.metrics), metrics));
  const samples =
    options.samples === false
      ? []
      : await readJsonlFile(source, p(RUN_FILES.samples), SampleRecordSchema, problems);
  const evals: EvalReport[] = [];
  for (const entry of await source.list(p(RUN_FILES.evalDir))) {
    if (entry.type !== 'file' || !entry.name.endsWith('.json')) continue;
    const report = await readJson(
      source,
      p(`${RUN_FILES.evalDir}/${entry.name}`),
      EvalReportSchema,
      problems,
    );
    if (report) evals.push(report);
  }
  const latestCheckpoint = await readJson(
    source,
    p(RUN_FILES.latest),
    CheckpointPointerSchema,
    problems,
  );
  const { stale, writer } = await staleness(source, runId, info, options.isWriterAlive);
  if (stale === true) {
    problems.push({
      file: p(RUN_FILES.lock),
      line: 0,
      code: 'STALE_RUN',
      message: `${runId}: run.json says running, but its writer is gone (${writer ? `pid ${writer.pid} on ${writer.host} is not running` : 'no writer.lock'}); the run was killed. Resume it with --resume.`,
    });
  }
  return { id: runId, info, metrics, samples, evals, latestCheckpoint, problems, stale, writer };
}

/** Summary of one run for a runs list. */
export interface RunSummary {
  id: string;
  info: RunInfo | null;
  problem?: string;
  /** See {@link LoadedRun.stale}. */
  stale: boolean | null;
}

/**
 * Lists the runs (folders with a `run.json`, or broken ones, reported) under the source root.
 * A folder without `run.json` is searched `depth - 1` levels further (default 2: an experiment's
 * `runs/<job>/<run>` layout); nested runs get ids like `job/run`.
 */
export async function listRuns(
  source: RunSource,
  dir = '',
  depth = 2,
  options: ReadRunOptions = {},
): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const entry of await source.list(dir)) {
    if (entry.type !== 'directory') continue;
    const id = dir === '' ? entry.name : `${dir}/${entry.name}`;
    const problems: ReadProblem[] = [];
    const info = await readJson(source, `${id}/${RUN_FILES.run}`, RunInfoSchema, problems);
    if (info === null && problems.length === 0) {
      // not a run folder: maybe a folder of runs
      if (
        depth > 1 &&
        entry.name !== RUN_FILES.checkpointsDir &&
        entry.name !== RUN_FILES.evalDir
      ) {
        out.push(...(await listRuns(source, id, depth - 1, options)));
      }
      continue;
    }
    const { stale } = await staleness(source, id, info, options.isWriterAlive);
    out.push(problems[0] ? { id, info, problem: problems[0].message, stale } : { id, info, stale });
  }
  return out.sort((a, b) => (b.info?.createdAt ?? '').localeCompare(a.info?.createdAt ?? ''));
}

/**
 * Follows a growing JSONL file: each `poll()` returns only the complete lines appended since
 * the last call (a torn last line is left for the next poll).
 */
export function followJsonl<S extends z.ZodType>(
  source: RunSource,
  path: string,
  schema: S,
): { poll(): Promise<{ records: z.infer<S>[]; problems: ReadProblem[] }> } {
  let offset = 0;
  let line = 1;
  return {
    async poll() {
      const text = await source.readFrom(path, offset);
      if (text === null || text === '') return { records: [], problems: [] };
      const result = parseJsonl(text, schema, { file: path, firstLine: line, mode: 'tolerant' });
      offset += result.consumedBytes;
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      line += complete.split('\n').length - 1;
      return { records: result.records, problems: result.problems };
    },
  };
}

export type { ReadProblem };
