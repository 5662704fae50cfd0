// The run-directory writer used by the trainer: creates a run with a unique id, keeps run.json
// current (atomic replace), appends metrics/samples lines, and writes checkpoint pointers last.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunsError } from '../errors.js';
import { parseJsonl } from '../jsonl.js';
import { RUN_FILES } from '../reader.js';
import {
  type CheckpointPointer,
  CheckpointPointerSchema,
  type EvalReport,
  EvalReportSchema,
  type MetricsRecord,
  MetricsRecordSchema,
  type RunInfo,
  RunInfoSchema,
  type RunStatus,
  type SampleRecord,
  SampleRecordSchema,
  SCHEMA_VERSION,
  type WithoutVersion,
} from '../schemas.js';
import { validateRecord } from '../validate.js';
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from './atomic.js';

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
  totalSteps?: number;
  /** Explicit id (folder name); default `<UTC timestamp>-<name>-<random>`. */
  id?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

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

/** Writes one run directory. Not safe for two writers of the same run; appends are. */
export class RunWriter {
  /** Absolute path of the run directory. */
  readonly dir: string;
  private current: RunInfo;
  private readonly now: () => Date;

  private constructor(dir: string, info: RunInfo, now: () => Date) {
    this.dir = dir;
    this.current = info;
    this.now = now;
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
    mkdirSync(options.runsDir, { recursive: true });
    const dir = join(options.runsDir, id);
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as { code?: string }).code === 'EEXIST') {
        throw new RunsError(
          'RUN_EXISTS',
          `run folder ${dir} already exists; pick another id or resume it`,
        );
      }
      throw e;
    }
    mkdirSync(join(dir, RUN_FILES.evalDir));
    mkdirSync(join(dir, RUN_FILES.checkpointsDir));
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
        step: 0,
        ...(options.totalSteps === undefined ? {} : { totalSteps: options.totalSteps }),
      },
      { file: join(dir, RUN_FILES.run) },
    );
    const writer = new RunWriter(dir, info, now);
    writer.flushInfo();
    return writer;
  }

  /** Opens an existing run to continue it (resume); sets status back to `running`. */
  static open(dir: string, options: { now?: () => Date } = {}): RunWriter {
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
    const writer = new RunWriter(dir, info, options.now ?? (() => new Date()));
    return writer;
  }

  /** The current `run.json` contents. */
  get info(): RunInfo {
    return this.current;
  }

  /** Run id (folder name). */
  get id(): string {
    return this.current.id;
  }

  private flushInfo(): void {
    writeJsonAtomic(join(this.dir, RUN_FILES.run), this.current);
  }

  /** Updates fields of `run.json` (atomically). */
  update(patch: Partial<Omit<RunInfo, 'version' | 'id' | 'createdAt'>>): void {
    this.current = { ...this.current, ...patch, updatedAt: this.now().toISOString() };
    this.flushInfo();
  }

  /** Sets the run status; `error` explains a failure. */
  setStatus(status: RunStatus, error?: string): void {
    this.update(error === undefined ? { status } : { status, error });
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

  /** Points `checkpoints/latest.json` at step `step` (written last, atomically) and records the step. */
  commitCheckpoint(step: number): CheckpointPointer {
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

  /** Reads `checkpoints/latest.json`, or `null` when no checkpoint was committed. */
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
    return validateRecord(CheckpointPointerSchema, value, { file });
  }

  /**
   * For an exact resume from the checkpoint of `step`: drops `metrics.jsonl` / `samples.jsonl`
   * lines logged after it (and a torn last line), rewriting each file atomically.
   */
  truncateAfter(step: number): void {
    for (const [file, schema] of [
      [RUN_FILES.metrics, MetricsRecordSchema],
      [RUN_FILES.samples, SampleRecordSchema],
    ] as const) {
      const path = join(this.dir, file);
      if (!existsSync(path)) continue;
      const parsed = parseJsonl(readFileSync(path, 'utf8'), schema, { file, mode: 'strict' });
      const kept = (parsed.records as { step: number }[]).filter((r) => r.step <= step);
      writeFileAtomic(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
  }
}
