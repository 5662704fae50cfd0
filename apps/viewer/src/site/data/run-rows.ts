// One summary row per run for the runs table, loaded lazily: run.json, the last value of every
// metric in metrics.jsonl, and each eval report's `summary` read from the head of its file
// (never the curve points or per-item records). Also links an eval run to the run and
// checkpoint it evaluated, from the model path in its config.
import {
  EvalReportSchema,
  MetricsRecordSchema,
  parseJsonl,
  type RunInfo,
  type RunSummary,
} from '@atmanrl/runs';
import type { SiteSource } from '../source.js';
import { readPrefixMembers } from './partial-json.js';

/** What an eval run evaluated, parsed from its `config.model`. */
export interface EvaluatedModel {
  /** The model path as configured. */
  model: string;
  /** Id of the evaluated run when it is in this runs folder, else `null`. */
  runId: string | null;
  /** Checkpoint folder name, e.g. `step-24`, or `null` for a plain model folder. */
  checkpoint: string | null;
  /** Step of the checkpoint, or `null`. */
  step: number | null;
}

/** The summary of one eval report (no curves, no items). */
export interface EvalSummary {
  /** File name inside `eval/`, e.g. `eval.json`. */
  file: string;
  name: string;
  step?: number;
  model: string;
  summary: Record<string, number | null>;
}

/** One row of the runs table. */
export interface RunRow {
  id: string;
  info: RunInfo | null;
  /** `train`, `eval`, or the command that made the run. */
  kind: string;
  /** Display name: the run name, or for an eval run `eval of <run> @ <checkpoint>`. */
  label: string;
  lastStep: number;
  /** Last finite value of every metric of metrics.jsonl. */
  last: Record<string, number>;
  evals: EvalSummary[];
  evaluated: EvaluatedModel | null;
  /** Problems found while reading (bad lines, unreadable files). */
  problems: string[];
  /** Status `running` but the writer is gone (the reader's `stale`, when it reports one). */
  stale: boolean;
}

/** Bytes of an eval report read to find its summary (it comes before the curves). */
export const EVAL_HEAD_BYTES = 16 * 1024;

/**
 * Parses an eval run's model path `…/<runId>/checkpoints/<checkpoint>` against the listed run
 * ids (the longest id the path ends with wins).
 */
export function parseEvaluatedModel(model: string, runIds: readonly string[]): EvaluatedModel {
  const norm = model.replace(/\\/g, '/').replace(/\/+$/, '');
  const m = /^(.*)\/checkpoints\/([^/]+)$/.exec(norm);
  const runDir = m ? m[1]! : null;
  const checkpoint = m ? m[2]! : null;
  const stepMatch = checkpoint ? /(\d+)$/.exec(checkpoint) : null;
  let runId: string | null = null;
  if (runDir !== null) {
    for (const id of runIds) {
      if ((runDir === id || runDir.endsWith(`/${id}`)) && id.length > (runId?.length ?? -1))
        runId = id;
    }
  }
  return { model, runId, checkpoint, step: stepMatch ? Number(stepMatch[1]) : null };
}

/** The last path segment of a model folder (`…/sft-model` → `sft-model`). */
export function modelBaseName(model: string): string {
  const parts = model.replace(/\\/g, '/').replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] ?? model;
}

/** Label of an eval run: `eval of <run name> @ <checkpoint>` or `eval of <model folder>`. */
export function evalLabel(evaluated: EvaluatedModel, runName: string | null): string {
  if (evaluated.checkpoint === null) return `eval of ${modelBaseName(evaluated.model)}`;
  const norm = evaluated.model.replace(/\\/g, '/');
  const of = runName ?? modelBaseName(norm.replace(/\/checkpoints\/[^/]+\/?$/, ''));
  return `eval of ${of} @ ${evaluated.checkpoint}`;
}

/** Last finite value of every metric and the last step, from metrics.jsonl text. */
export function lastMetrics(
  text: string,
  file: string,
): {
  last: Record<string, number>;
  lastStep: number;
  problems: string[];
} {
  const r = parseJsonl(text, MetricsRecordSchema, { file, mode: 'tolerant' });
  const last: Record<string, number> = {};
  let lastStep = 0;
  for (const rec of r.records) {
    lastStep = Math.max(lastStep, rec.step);
    for (const [k, v] of Object.entries(rec.metrics))
      if (v !== null && Number.isFinite(v)) last[k] = v;
  }
  return { last, lastStep, problems: r.problems.map((p) => `${p.file}:${p.line} ${p.message}`) };
}

/** Reads an eval report's summary from the head of the file, the whole file only if needed. */
export async function readEvalSummary(site: SiteSource, path: string): Promise<EvalSummary | null> {
  const head = await site.readHead(path, EVAL_HEAD_BYTES);
  if (head === null) return null;
  let values: Record<string, unknown>;
  const members = readPrefixMembers(head);
  if ('summary' in members.values || members.complete) values = members.values;
  else {
    const full = await site.source.readText(path);
    if (full === null) return null;
    values = JSON.parse(full) as Record<string, unknown>;
  }
  // Validate the fields we use with the report schema's own parts.
  const shape = EvalReportSchema.shape;
  const summary = shape.summary.parse(values.summary);
  const file = path.slice(path.lastIndexOf('/') + 1);
  const step = values.step === undefined ? undefined : shape.step.parse(values.step);
  return {
    file,
    name: shape.name.parse(values.name),
    ...(step === undefined ? {} : { step }),
    model: shape.model.parse(values.model),
    summary,
  };
}

/** Loads the row of one run (see file comment); what fails is listed in `problems`. */
export async function loadRunRow(
  site: SiteSource,
  summary: RunSummary,
  runIds: readonly string[],
  names: ReadonlyMap<string, string>,
): Promise<RunRow> {
  const { id, info } = summary;
  const problems: string[] = summary.problem ? [summary.problem] : [];
  const entries = await site.source.list(id);
  const has = (name: string) => entries.some((e) => e.name === name);
  let last: Record<string, number> = {};
  let lastStep = info?.step ?? 0;
  if (has('metrics.jsonl')) {
    const text = await site.source.readText(`${id}/metrics.jsonl`);
    if (text !== null) {
      const m = lastMetrics(text, `${id}/metrics.jsonl`);
      last = m.last;
      lastStep = Math.max(lastStep, m.lastStep);
      problems.push(...m.problems);
    }
  }
  const evals: EvalSummary[] = [];
  if (has('eval')) {
    for (const e of await site.source.list(`${id}/eval`)) {
      if (e.type !== 'file' || !e.name.endsWith('.json')) continue;
      try {
        const s = await readEvalSummary(site, `${id}/eval/${e.name}`);
        if (s) evals.push(s);
      } catch (err) {
        problems.push(`${id}/eval/${e.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  const kind = info?.command ?? 'broken';
  const model = typeof info?.config.model === 'string' ? info.config.model : evals[0]?.model;
  const evaluated =
    kind === 'eval' && model !== undefined ? parseEvaluatedModel(model, runIds) : null;
  const label = evaluated
    ? evalLabel(evaluated, evaluated.runId ? (names.get(evaluated.runId) ?? null) : null)
    : (info?.name ?? id);
  const stale = (summary as { stale?: boolean | null }).stale === true;
  return { id, info, kind, label, lastStep, last, evals, evaluated, problems, stale };
}

/** Rows of every listed run, loaded in parallel. */
export async function loadRunRows(
  site: SiteSource,
  summaries: readonly RunSummary[],
): Promise<RunRow[]> {
  const ids = summaries.map((s) => s.id);
  const names = new Map(summaries.map((s) => [s.id, s.info?.name ?? s.id]));
  return Promise.all(summaries.map((s) => loadRunRow(site, s, ids, names)));
}

/**
 * The eval runs that evaluated a checkpoint of `runId` (from each eval run's `config.model`),
 * with the checkpoint's step; by step, then id.
 */
export function evalRunsOf(
  index: readonly RunSummary[],
  runId: string,
): { id: string; checkpoint: string | null; step: number | null }[] {
  const ids = index.map((s) => s.id);
  return index
    .filter((s) => s.info?.command === 'eval' && typeof s.info.config.model === 'string')
    .map((s) => ({ id: s.id, e: parseEvaluatedModel(s.info!.config.model as string, ids) }))
    .filter((x) => x.e.runId === runId)
    .map((x) => ({ id: x.id, checkpoint: x.e.checkpoint, step: x.e.step }))
    .sort((a, b) => (a.step ?? -1) - (b.step ?? -1) || a.id.localeCompare(b.id));
}
