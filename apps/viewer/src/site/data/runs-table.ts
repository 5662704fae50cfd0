// The runs table's model: its columns (run facts, last training metrics, eval summary numbers),
// filtering, sorting, empty-column detection, grouping rows into arms with mean ± sd, and the
// config diff without noise keys. Pure functions over RunRow; the page renders them.
import { type ConfigDiffRow, diffConfigs } from './config-diff.js';
import { type GroupBy, groupKey, meanSd } from './groups.js';
import type { RunRow } from './run-rows.js';

/** One column of the runs table. */
export interface Column {
  id: string;
  label: string;
  /** `metric` = last value of metrics.jsonl, `eval` = eval summary value. */
  source: 'run' | 'metric' | 'eval';
  numeric: boolean;
  value(row: RunRow): number | string | null;
}

const RUN_COLUMNS: Column[] = [
  { id: 'kind', label: 'kind', source: 'run', numeric: false, value: (r) => r.kind },
  {
    id: 'status',
    label: 'status',
    source: 'run',
    numeric: false,
    value: (r) => (r.stale ? 'stale' : (r.info?.status ?? 'broken')),
  },
  {
    id: 'steps',
    label: 'steps',
    source: 'run',
    numeric: true,
    value: (r) => (r.kind === 'eval' ? null : r.lastStep),
  },
  {
    id: 'created',
    label: 'created',
    source: 'run',
    numeric: false,
    value: (r) => r.info?.createdAt ?? null,
  },
  {
    id: 'problems',
    label: 'problems',
    source: 'run',
    numeric: true,
    // null (not 0) without problems, so the column hides when every run is clean
    value: (r) => (r.problems.length === 0 ? null : r.problems.length),
  },
];

/** Columns shown until the user picks others (those without data are hidden anyway). */
export const DEFAULT_COLUMNS: readonly string[] = [
  'status',
  'steps',
  'metric:reward',
  'metric:accuracy',
  'metric:rewards/saliency/mean',
  'metric:kl',
  'metric:completions/mean_length',
  'metric:cot_tokens/mean',
  'metric:modes/terse',
  'eval:pass@1',
  'eval:pass@4',
  'eval:accuracy_greedy',
  'eval:cot_tokens/mean',
  'eval:early_answering/aoc',
  'eval:adding_mistakes/aoc',
  'problems',
];

/** Every column the rows can fill: run facts, then each metric, then each eval summary key. */
export function availableColumns(rows: readonly RunRow[]): Column[] {
  const metrics = new Set<string>();
  const evals = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.last)) metrics.add(k);
    for (const e of r.evals) for (const k of Object.keys(e.summary)) evals.add(k);
  }
  return [
    ...RUN_COLUMNS,
    ...[...metrics].map(
      (m): Column => ({
        id: `metric:${m}`,
        label: m,
        source: 'metric',
        numeric: true,
        value: (r) => r.last[m] ?? null,
      }),
    ),
    ...[...evals].map(
      (k): Column => ({
        id: `eval:${k}`,
        label: `eval ${k}`,
        source: 'eval',
        numeric: true,
        value: (r) => {
          for (const e of r.evals) {
            const v = e.summary[k];
            if (v !== undefined && v !== null && Number.isFinite(v)) return v;
          }
          return null;
        },
      }),
    ),
  ];
}

/** Rows whose label, id, kind, status or group contain every word of `query` (case-insensitive). */
export function filterRows(rows: readonly RunRow[], query: string): RunRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...rows];
  return rows.filter((r) => {
    const hay = `${r.label} ${r.id} ${r.kind} ${r.info?.status ?? 'broken'}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Rows sorted by `column` (missing values last in both directions), stable. */
export function sortRows(
  rows: readonly RunRow[],
  column: Column | null,
  dir: 'asc' | 'desc',
): RunRow[] {
  if (!column) return [...rows];
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((r, i) => ({ r, i, v: column.value(r) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      const c =
        typeof a.v === 'number' && typeof b.v === 'number'
          ? a.v - b.v
          : String(a.v).localeCompare(String(b.v));
      return c === 0 ? a.i - b.i : sign * c;
    })
    .map((x) => x.r);
}

/** The columns among `columns` with at least one value in `rows`. */
export function nonEmptyColumns(columns: readonly Column[], rows: readonly RunRow[]): Column[] {
  return columns.filter((c) => rows.some((r) => c.value(r) !== null));
}

/** A group of rows (an arm) with mean ± sd of every numeric column over its rows. */
export interface RowGroup {
  key: string | null;
  rows: RunRow[];
  stats: Map<string, { mean: number; sd: number; n: number }>;
}

/**
 * Groups rows by `by` in first-seen order (ungrouped rows last, as one group with key `null`).
 * `nameOf` gives the name a row is grouped by (an eval run: the run it evaluated).
 */
export function groupRows(
  rows: readonly RunRow[],
  by: GroupBy,
  columns: readonly Column[],
  nameOf: (row: RunRow) => string,
  /** Order groups by name (else by their first row). */
  sortGroups = false,
): RowGroup[] {
  const groups = new Map<string | null, RunRow[]>();
  for (const r of rows) {
    const key = groupKey(by, nameOf(r), r.info?.config);
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const ordered = [...groups.entries()].sort((a, b) =>
    a[0] === null ? 1 : b[0] === null ? -1 : sortGroups ? a[0].localeCompare(b[0]) : 0,
  );
  return ordered.map(([key, list]) => {
    const stats = new Map<string, { mean: number; sd: number; n: number }>();
    for (const c of columns) {
      if (!c.numeric || c.source === 'run') continue;
      const s = meanSd(list.map((r) => c.value(r) as number | null));
      if (s) stats.set(c.id, s);
    }
    return { key, rows: list, stats };
  });
}

/** Config keys that name where or how a run was launched, not what it computes. */
export const NOISE_KEYS: readonly string[] = [
  'runName',
  'runsDir',
  'resume',
  'port',
  'export',
  'out',
];

/** Config diff of the selected runs without {@link NOISE_KEYS}. */
export function diffWithoutNoise(configs: readonly Record<string, unknown>[]): {
  rows: ConfigDiffRow[];
  same: number;
} {
  return diffConfigs(
    configs.map((c) =>
      Object.fromEntries(Object.entries(c).filter(([k]) => !NOISE_KEYS.includes(k))),
    ),
  );
}
