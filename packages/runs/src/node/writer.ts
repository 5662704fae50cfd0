// The run-directory writer used by the trainer: creates a run with a unique id, keeps run.json
// current (atomic replace), appends metrics/samples lines, and writes checkpoint pointers last.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join, sep } from 'node:path';
import { RunsError } from '../errors.js';
import { parseJsonl, type ReadProblem } from '../jsonl.js';
import { RUN_FILES } from '../reader.js';
import {
  type CheckpointPointer,
  CheckpointPointerSchema,
  type EvalReport,
  EvalReportSchema,
  type Machine,
  type MetricsRecord,
  MetricsRecordSchema,
  type RunInfo,
  RunInfoSchema,
  type RunStatus,
  RunStatusSchema,
  type SampleRecord,
  SampleRecordSchema,
  SCHEMA_VERSION,
  type WithoutVersion,
} from '../schemas.js';
import { validateRecord } from '../validate.js';
import { appendJsonLine, fsyncDir, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { acquireRunLock, type RunLock } from './lock.js';
import { thisMachine } from './machine.js';
import { resolveInside } from './paths.js';

/** Options for {@link RunWriter.create}. */
export interface CreateRunOptions {
  /** Folder holding all runs; created if missing. */
  runsDir: string;
  /** Command that produced the run (`train`, `sft`, `demo`...). */
  command: string;
  /** Resolved configuration (stored verbatim in run.json). */
  config: Record<string, unknown>;
  seed: number;
  backend: { name: string; detail?: string };
  name?: string;
  versions?: Record<string, string>;
  /** The machine; default {@link thisMachine}. */
  machine?: Machine;
  totalSteps?: number;
  /**
   * The Hugging Face Hub model the run starts from (id, commit hash, file hashes), written to
   * run.json's `modelSource`; omit for a local model folder.
   */
  modelSource?: { id: string; revision: string; files: Record<string, string> };
  /** Explicit id (folder name); default `<UTC timestamp>-<name>-<random>`. */
  id?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Options of {@link RunWriter.open}. */
export interface OpenRunOptions {
  /** Clock, for tests. */
  now?: () => Date;
  /** Command taking the writer lock (shown to a second writer). */
  command?: string;
}

/** `JSON.stringify` that names the first value JSON cannot hold (BigInt, cycles, functions). */
function serialize(value: unknown, file: string): string {
  const bad: string[] = [];
  const text = JSON.stringify(
    value,
    function (this: unknown, key, v: unknown) {
      if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') {
        bad.push(`${key} is a ${typeof v}`);
        return null;
      }
      return v;
    },
    2,
  );
  if (bad.length > 0) {
    throw new RunsError(
      'INVALID_RECORD',
      `${file}: cannot be written as JSON: ${bad.join(', ')}. Pass plain numbers, strings, booleans, arrays and objects (convert a BigInt with Number() or String()).`,
      { file },
    );
  }
  return `${text}\n`;
}

const TERMINAL: ReadonlySet<RunStatus> = new Set(['finished', 'failed', 'interrupted']);

/** Entries named like the temp files of {@link writeFileAtomic} or a staged checkpoint. */
const TEMP_NAME = /\.tmp-/;

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}

/** Replaces non-finite numbers by `null` (JSON has no NaN/Infinity). */
function finiteOrNull(metrics: Record<string, number | null>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(metrics))
    out[k] = v !== null && Number.isFinite(v) ? v : null;
  return out;
}

/**
 * Writes one run directory. Holds the folder's writer lock (`writer.lock`, pid + host) from
 * {@link RunWriter.create}/{@link RunWriter.open} until a final status or {@link RunWriter.close},
 * so a second writer fails with `RunsError('LOCKED')` naming the holder.
 */
export class RunWriter {
  /** Absolute path of the run directory. */
  readonly dir: string;
  /** Leftover temp files removed when the run was opened (relative paths). */
  readonly removedTempFiles: string[];
  private current: RunInfo;
  private readonly now: () => Date;
  private lock: RunLock | null;

  private constructor(
    dir: string,
    info: RunInfo,
    now: () => Date,
    lock: RunLock | null,
    removed: string[] = [],
  ) {
    this.dir = dir;
    this.current = info;
    this.now = now;
    this.lock = lock;
    this.removedTempFiles = removed;
  }

  /** Creates a new run folder (fails if the id exists) and writes `run.json` with status `running`. */
  static create(options: CreateRunOptions): RunWriter {
    const now = options.now ?? (() => new Date());
    const t = now();
    const stamp = t.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const id =
      options.id ??
      [
        stamp,
        options.name ? slug(options.name) : slug(options.command),
        Math.random().toString(36).slice(2, 6),
      ]
        .filter((s) => s.length > 0)
        .join('-');
    const dir = join(options.runsDir, id);
    // Validate (and serialise) everything before creating the folder: a bad config leaves nothing.
    const info: RunInfo = validateRecord(
      RunInfoSchema,
      {
        version: SCHEMA_VERSION,
        id,
        ...(options.name === undefined ? {} : { name: options.name }),
        command: options.command,
        createdAt: t.toISOString(),
        updatedAt: t.toISOString(),
        status: 'running',
        config: options.config,
        seed: options.seed,
        backend: options.backend,
        versions: options.versions ?? { node: process.versions.node },
        machine: options.machine ?? thisMachine(),
        ...(options.modelSource === undefined ? {} : { modelSource: options.modelSource }),
        step: 0,
        ...(options.totalSteps === undefined ? {} : { totalSteps: options.totalSteps }),
      },
      { file: join(dir, RUN_FILES.run) },
    );
    const text = serialize(info, join(dir, RUN_FILES.run));
    try {
      mkdirSync(options.runsDir, { recursive: true });
    } catch (e) {
      throw new RunsError(
        'WRITE_FAILED',
        `cannot create the runs folder ${options.runsDir}: ${(e as Error).message}. Pass --runs-dir <folder> naming a folder (or a path that can be created).`,
        { file: options.runsDir, cause: e },
      );
    }
    try {
      mkdirSync(dir);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST') {
        throw new RunsError(
          'RUN_EXISTS',
          `run folder ${dir} already exists; pick another id or resume it`,
        );
      }
      throw new RunsError(
        'WRITE_FAILED',
        `cannot create the run folder ${dir}: ${(e as Error).message}. ${code === 'ENOTDIR' ? `${options.runsDir} is not a folder: pass --runs-dir <folder>.` : 'Check the runs folder is writable.'}`,
        { file: dir, cause: e },
      );
    }
    let lock: RunLock | null = null;
    try {
      lock = acquireRunLock(dir, { command: options.command });
      mkdirSync(join(dir, RUN_FILES.evalDir));
      mkdirSync(join(dir, RUN_FILES.checkpointsDir));
      writeFileAtomic(join(dir, RUN_FILES.run), text);
    } catch (e) {
      lock?.release();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return new RunWriter(dir, info, now, lock);
  }

  /**
   * Opens an existing run to continue it (resume): takes the writer lock (`RunsError('LOCKED')`
   * when a live process holds it; a stale lock is replaced) and removes leftover `*.tmp-*` files.
   */
  static open(dir: string, options: OpenRunOptions = {}): RunWriter {
    const file = join(dir, RUN_FILES.run);
    if (!existsSync(file)) {
      throw new RunsError('NOT_FOUND', `${file} does not exist: ${dir} is not a run folder`, {
        file,
      });
    }
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new RunsError('INVALID_JSON', `${file}: not valid JSON (${(e as Error).message})`, {
        file,
      });
    }
    const info = validateRecord(RunInfoSchema, value, { file });
    const lock = acquireRunLock(dir, options.command ? { command: options.command } : {});
    let removed: string[];
    try {
      removed = removeTempFiles(dir);
    } catch (e) {
      lock.release();
      throw e;
    }
    return new RunWriter(dir, info, options.now ?? (() => new Date()), lock, removed);
  }

  /** The writer lock this writer holds, or null once released. */
  get heldLock(): RunLock | null {
    return this.lock;
  }

  /** Releases the writer lock (idempotent). A final {@link setStatus} also releases it. */
  close(): void {
    this.lock?.release();
    this.lock = null;
  }

  /** The current `run.json` contents. */
  get info(): RunInfo {
    return this.current;
  }

  /** Run id (folder name). */
  get id(): string {
    return this.current.id;
  }

  /**
   * Updates fields of `run.json` (atomically). The result is validated (schema and JSON) before
   * anything is written; on error the file and this writer's state stay as they were.
   */
  update(patch: Partial<Omit<RunInfo, 'version' | 'id' | 'createdAt'>>): void {
    const file = join(this.dir, RUN_FILES.run);
    const next = validateRecord(
      RunInfoSchema,
      { ...this.current, ...patch, updatedAt: this.now().toISOString() },
      { file },
    );
    writeFileAtomic(file, serialize(next, file));
    this.current = next;
  }

  /**
   * Sets the run status (`running`, `finished`, `failed`, `interrupted`; anything else throws
   * `INVALID_RECORD` before writing); `error` explains a failure. A final status releases the lock.
   */
  setStatus(status: RunStatus, error?: string): void {
    const parsed = RunStatusSchema.safeParse(status);
    if (!parsed.success) {
      throw new RunsError(
        'INVALID_RECORD',
        `setStatus: "${String(status)}" is not a run status; expected one of ${RunStatusSchema.options.join(', ')}`,
        { file: RUN_FILES.run },
      );
    }
    if (error !== undefined && typeof error !== 'string') {
      throw new RunsError('INVALID_RECORD', 'setStatus: error must be a string', {
        file: RUN_FILES.run,
      });
    }
    this.update(error === undefined ? { status } : { status, error });
    if (TERMINAL.has(status)) this.close();
  }

  /** Appends one `metrics.jsonl` line for `step` (non-finite values become `null`). */
  logMetrics(step: number, metrics: Record<string, number | null>): MetricsRecord {
    const record = validateRecord(
      MetricsRecordSchema,
      {
        version: SCHEMA_VERSION,
        step,
        time: this.now().toISOString(),
        metrics: finiteOrNull(metrics),
      },
      { file: RUN_FILES.metrics },
    );
    appendJsonLine(join(this.dir, RUN_FILES.metrics), record);
    return record;
  }

  /** Appends `samples.jsonl` lines (one write per line). */
  logSamples(samples: WithoutVersion<SampleRecord>[]): void {
    const path = join(this.dir, RUN_FILES.samples);
    for (const s of samples) {
      const record = validateRecord(
        SampleRecordSchema,
        { ...s, version: SCHEMA_VERSION },
        {
          file: RUN_FILES.samples,
        },
      );
      appendJsonLine(path, record);
    }
  }

  /** Writes `eval/<name>.json` atomically. */
  writeEval(name: string, report: WithoutVersion<EvalReport>): string {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) {
      throw new RunsError(
        'INVALID_RECORD',
        `eval name "${name}" may only use letters, digits, '.', '_' and '-'`,
      );
    }
    const record = validateRecord(
      EvalReportSchema,
      { ...report, version: SCHEMA_VERSION },
      {
        file: `eval/${name}.json`,
      },
    );
    const path = join(this.dir, RUN_FILES.evalDir, `${name}.json`);
    mkdirSync(join(this.dir, RUN_FILES.evalDir), { recursive: true });
    writeJsonAtomic(path, record);
    return path;
  }

  /** Folder for the checkpoint of `step` (created); fill it, then call {@link commitCheckpoint}. */
  checkpointDir(step: number): string {
    const dir = join(this.dir, RUN_FILES.checkpointsDir, `step-${step}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * A new, empty temp folder `checkpoints/.step-N.tmp-*` to fill with the checkpoint of `step`;
   * {@link commitCheckpoint} with it makes every file durable and renames it into place.
   */
  stageCheckpoint(step: number): string {
    const dir = join(
      this.dir,
      RUN_FILES.checkpointsDir,
      `.step-${step}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    );
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Points `checkpoints/latest.json` at step `step` (written last, atomically) and records the
   * step. With `staged` (from {@link stageCheckpoint}): first fsyncs every file in it and the
   * folder, renames it to `checkpoints/step-N` (replacing an old one that is not `latest`) and
   * fsyncs `checkpoints/`, so the pointer never names a checkpoint a power loss could empty.
   */
  commitCheckpoint(step: number, staged?: string): CheckpointPointer {
    if (staged !== undefined) this.installStaged(step, staged);
    const pointer: CheckpointPointer = {
      version: SCHEMA_VERSION,
      step,
      path: `${RUN_FILES.checkpointsDir}/step-${step}`,
      createdAt: this.now().toISOString(),
    };
    writeJsonAtomic(join(this.dir, RUN_FILES.latest), pointer);
    this.update({ step });
    return pointer;
  }

  private installStaged(step: number, staged: string): void {
    const root = join(this.dir, RUN_FILES.checkpointsDir);
    const final = join(root, `step-${step}`);
    try {
      fsyncTree(staged);
      if (existsSync(final)) {
        const latest = existsSync(join(this.dir, RUN_FILES.latest))
          ? this.latestCheckpoint()
          : null;
        if (latest !== null && resolveInside(this.dir, latest.path) === final) {
          throw new RunsError(
            'WRITE_FAILED',
            `${final} is the latest checkpoint; refusing to replace it in place`,
            { file: final },
          );
        }
        const old = join(root, `.step-${step}.old.tmp-${process.pid}`);
        rmSync(old, { recursive: true, force: true });
        renameSync(final, old);
        rmSync(old, { recursive: true, force: true });
      }
      renameSync(staged, final);
      fsyncDir(root);
    } catch (e) {
      if (e instanceof RunsError) throw e;
      throw new RunsError(
        'WRITE_FAILED',
        `could not commit the checkpoint ${final}: ${(e as Error).message}`,
        { file: final, cause: e },
      );
    }
  }

  /** Committed-looking checkpoint folders `checkpoints/step-N`, newest first (not checked). */
  listCheckpoints(): { step: number; path: string }[] {
    const root = join(this.dir, RUN_FILES.checkpointsDir);
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && /^step-\d+$/.test(d.name))
      .map((d) => ({
        step: Number(d.name.slice(5)),
        path: `${RUN_FILES.checkpointsDir}/${d.name}`,
      }))
      .sort((a, b) => b.step - a.step);
  }

  /**
   * Reads `checkpoints/latest.json`, or `null` when no checkpoint was committed. A pointer whose
   * `path` leaves `checkpoints/` (e.g. `../../x`) is refused with `INVALID_RECORD`.
   */
  latestCheckpoint(): CheckpointPointer | null {
    const file = join(this.dir, RUN_FILES.latest);
    if (!existsSync(file)) return null;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new RunsError('INVALID_JSON', `${file}: not valid JSON (${(e as Error).message})`, {
        file,
      });
    }
    const pointer = validateRecord(CheckpointPointerSchema, value, { file });
    const root = join(this.dir, RUN_FILES.checkpointsDir);
    const target = resolveInside(this.dir, pointer.path);
    if (target === null || !target.startsWith(`${root}${sep}`)) {
      throw new RunsError(
        'INVALID_RECORD',
        `${file}: path "${pointer.path}" leaves the run's checkpoints/ folder; refused. A pointer names checkpoints/step-N: fix it or delete latest.json.`,
        { file },
      );
    }
    return pointer;
  }

  /**
   * For an exact resume from the checkpoint of `step`: drops `metrics.jsonl` / `samples.jsonl`
   * lines logged after it, a torn last line (code `TORN_LINE`) and any invalid line, rewriting
   * each file atomically. Returns what it dropped (with file:line), and, as `MISSING_STEPS`, the
   * steps up to `step` that have no metrics line left (their checkpoint exists but their metrics
   * were lost, e.g. to a torn line): those are recorded in run.json's `metricsGaps`.
   */
  truncateAfter(step: number): ReadProblem[] {
    const dropped: ReadProblem[] = [];
    for (const [file, schema] of [
      [RUN_FILES.metrics, MetricsRecordSchema],
      [RUN_FILES.samples, SampleRecordSchema],
    ] as const) {
      const path = join(this.dir, file);
      if (!existsSync(path)) continue;
      const text = readFileSync(path, 'utf8');
      const parsed = parseJsonl(text, schema, { file, mode: 'tolerant' });
      dropped.push(...parsed.problems);
      if (parsed.tornTail) {
        const line = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').length;
        dropped.push({
          file,
          line,
          code: 'TORN_LINE',
          message: `${file}:${line}: the last line was cut off by an interrupted write (${text.length - text.lastIndexOf('\n') - 1} bytes, no newline); it is dropped`,
        });
      }
      const kept = (parsed.records as { step: number }[]).filter((r) => r.step <= step);
      writeFileAtomic(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
      if (file === RUN_FILES.metrics) {
        const have = new Set(kept.map((r) => r.step));
        const missing = Array.from({ length: step }, (_, i) => i + 1).filter((s) => !have.has(s));
        if (missing.length > 0) {
          const before = Array.isArray(this.current['metricsGaps'])
            ? (this.current['metricsGaps'] as unknown[]).filter(
                (s): s is number => typeof s === 'number',
              )
            : [];
          const gaps = [...new Set([...before, ...missing])].sort((a, b) => a - b);
          this.update({ metricsGaps: gaps });
          dropped.push({
            file,
            line: 0,
            code: 'MISSING_STEPS',
            message: `${file} has no line for step${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, although the checkpoint of step ${step} includes ${missing.length > 1 ? 'them' : 'it'}: ${missing.length > 1 ? 'their' : 'its'} metrics are lost (the checkpoint does not hold them). The gap is marked in run.json ("metricsGaps": [${gaps.join(', ')}]); training goes on exactly.`,
          });
        }
      }
    }
    return dropped;
  }
}

/** fsyncs every file below `dir` (one level of sub-folders), then the folders. */
function fsyncTree(dir: string): void {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) fsyncTree(p);
    else if (d.isFile()) {
      const fd = openSync(p, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

/** Removes `*.tmp-*` leftovers (temp files of atomic writes, staged checkpoints) of a run. */
function removeTempFiles(dir: string): string[] {
  const removed: string[] = [];
  const ckpt = join(dir, RUN_FILES.checkpointsDir);
  const stepDirs = existsSync(ckpt)
    ? readdirSync(ckpt, { withFileTypes: true })
        .filter((d) => d.isDirectory() && /^step-\d+$/.test(d.name))
        .map((d) => `${RUN_FILES.checkpointsDir}/${d.name}`)
    : [];
  for (const sub of ['', RUN_FILES.evalDir, RUN_FILES.checkpointsDir, ...stepDirs]) {
    const at = sub === '' ? dir : join(dir, sub);
    if (!existsSync(at)) continue;
    for (const d of readdirSync(at, { withFileTypes: true })) {
      if (!TEMP_NAME.test(d.name)) continue;
      rmSync(join(at, d.name), { recursive: true, force: true });
      removed.push(sub === '' ? d.name : `${sub}/${d.name}`);
    }
  }
  return removed;
}
