// The experiment report: when the viewer's root is an experiment folder (results.json written by
// `atmanrl experiment`), its arms table as in REPORT.md — mean ± sd over seeds per arm with each
// metric's baseline — with each row linked to its arm's training curves and eval comparison.
import { useEffect, useState } from 'preact/hooks';
import { baselineName, pairBaselines } from '../data/baselines.js';
import { ARM_BY_NAME, groupKey } from '../data/groups.js';
import { formatRoute } from '../data/route.js';
import type { RunRow } from '../data/run-rows.js';
import type { SiteSource } from '../source.js';

/** A mean ± sd cell of results.json. */
interface Stat {
  mean: number | null;
  std: number | null;
  n?: number;
}

/** What the page reads of results.json (extra fields are ignored). */
export interface ExperimentResults {
  start: Record<string, number | null> | null;
  arms: Record<string, Record<string, Stat>>;
  /** Optional labels and directions, as REPORT.md's table has them. */
  metrics?: { key: string; label?: string; note?: string; baseline?: string }[];
}

/** Parses results.json text; `null` when it is not an experiment's results. */
export function parseResults(text: string): ExperimentResults | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (o.arms === null || typeof o.arms !== 'object') return null;
  return o as unknown as ExperimentResults;
}

/** The experiment's title and description from REPORT.md's first heading and paragraph. */
export function reportHeading(md: string): { title: string; description: string } {
  const lines = md.split('\n');
  const h = lines.findIndex((l) => l.startsWith('# '));
  if (h < 0) return { title: 'Experiment', description: '' };
  const title = lines[h]!.slice(2).replace(/`/g, '').trim();
  let description = '';
  for (let i = h + 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l.startsWith('#')) break;
    if (l !== '') {
      description = l;
      break;
    }
  }
  return { title, description };
}

const f3 = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3);

/** The arm of a run row: its name without the seed, or for an eval run the evaluated run's. */
export function armOfRow(row: RunRow, names: ReadonlyMap<string, string>): string | null {
  if (row.kind === 'eval') {
    if (!row.evaluated?.runId) return null;
    return groupKey(ARM_BY_NAME, names.get(row.evaluated.runId) ?? '', undefined);
  }
  return groupKey(ARM_BY_NAME, row.info?.name ?? row.id, undefined);
}

/** The experiment report section (renders nothing outside an experiment folder). */
export function ExperimentReport(props: {
  site: SiteSource;
  rows: readonly RunRow[];
  names: ReadonlyMap<string, string>;
}) {
  const { site, rows, names } = props;
  const [results, setResults] = useState<ExperimentResults | null>(null);
  const [heading, setHeading] = useState<{ title: string; description: string } | null>(null);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const root = await site.source.list('');
      if (!root.some((e) => e.name === 'results.json')) return;
      const text = await site.source.readText('results.json');
      const parsed = text === null ? null : parseResults(text);
      const md = root.some((e) => e.name === 'REPORT.md')
        ? await site.source.readText('REPORT.md')
        : null;
      if (cancelled) return;
      setResults(parsed);
      setHeading(md ? reportHeading(md) : { title: 'Experiment', description: '' });
    })().catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [site]);
  if (!results || !heading) return null;
  const arms = Object.keys(results.arms);
  const keys = results.metrics?.map((m) => m.key) ?? [
    ...new Set(arms.flatMap((a) => Object.keys(results.arms[a]!))),
  ];
  const explicit = Object.fromEntries(
    (results.metrics ?? []).filter((m) => m.baseline).map((m) => [m.key, m.baseline!]),
  );
  const pairs = pairBaselines(keys, explicit);
  const label = (k: string) => results.metrics?.find((m) => m.key === k)?.label ?? k;
  const note = (k: string) => results.metrics?.find((m) => m.key === k)?.note;
  const runsOf = (arm: string | null) => rows.filter((r) => armOfRow(r, names) === arm);
  const links = (arm: string | null) => {
    const mine = runsOf(arm);
    const train = mine.filter((r) => r.kind !== 'eval').map((r) => r.id);
    const evals = mine.filter((r) => r.kind === 'eval').map((r) => r.id);
    return (
      <span class="arm-links">
        {train.length > 0 ? (
          <a href={formatRoute({ page: 'overview', runId: train[0]!, with: train.slice(1) })}>
            curves ({train.length})
          </a>
        ) : null}
        {train.length > 0 && evals.length > 0 ? ' · ' : null}
        {evals.length > 0 ? (
          <a href={formatRoute({ page: 'eval', runId: evals[0]!, with: evals.slice(1) })}>
            evals ({evals.length})
          </a>
        ) : null}
      </span>
    );
  };
  const startCell = (key: string, baseline: string | null) => {
    const v = results.start?.[key];
    const b = baseline ? results.start?.[baseline] : undefined;
    return b === undefined || b === null
      ? f3(v)
      : `${f3(v)} (${baselineName(key, baseline!)} ${f3(b)})`;
  };
  const byName = (a: RunRow, b: RunRow) => a.label.localeCompare(b.label);
  const allTrain = rows
    .filter((r) => r.kind !== 'eval' && armOfRow(r, names) !== null)
    .sort(byName);
  const allEval = rows.filter((r) => r.kind === 'eval' && armOfRow(r, names) !== null).sort(byName);
  return (
    <section class="experiment" aria-labelledby="experiment-title">
      <h2 id="experiment-title">{heading.title}</h2>
      {heading.description ? <p class="experiment-description">{heading.description}</p> : null}
      {allTrain.length > 0 ? (
        <p class="arm-links all-arms">
          All arms:{' '}
          <a
            href={formatRoute({
              page: 'overview',
              runId: allTrain[0]!.id,
              with: allTrain.slice(1).map((r) => r.id),
            })}
          >
            training curves ({allTrain.length} runs)
          </a>
          {allEval.length > 0 ? (
            <>
              {' · '}
              <a
                href={formatRoute({
                  page: 'eval',
                  runId: allEval[0]!.id,
                  with: allEval.slice(1).map((r) => r.id),
                })}
              >
                evals ({allEval.length} runs)
              </a>
            </>
          ) : null}
        </p>
      ) : null}
      <p class="table-note" id="arms-note">
        Results per arm: mean ± sd over seeds (baseline in brackets), from results.json.
      </p>
      <div class="table-scroll">
        <table class="arms-table" aria-describedby="arms-note">
          <thead>
            <tr>
              <th scope="col">arm</th>
              <th scope="col">runs</th>
              {pairs.map((p) => (
                <th key={p.key} scope="col" class="num">
                  {label(p.key)}
                  {note(p.key) ? <div class="run-id">{note(p.key)}</div> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {results.start ? (
              <tr data-arm="start">
                <th scope="row">start</th>
                <td>{links(null)}</td>
                {pairs.map((p) => (
                  <td key={p.key} class="num" data-metric={p.key}>
                    {startCell(p.key, p.baseline)}
                  </td>
                ))}
              </tr>
            ) : null}
            {arms.map((arm) => (
              <tr key={arm} data-arm={arm}>
                <th scope="row">{arm}</th>
                <td>{links(arm)}</td>
                {pairs.map((p) => {
                  const s = results.arms[arm]![p.key];
                  const b = p.baseline ? results.arms[arm]![p.baseline] : undefined;
                  const text = s
                    ? `${f3(s.mean)} ± ${f3(s.std)}${b ? ` (${baselineName(p.key, p.baseline!)} ${f3(b.mean)})` : ''}`
                    : '–';
                  return (
                    <td key={p.key} class="num" data-metric={p.key}>
                      {text}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
