// Runs list: a table of every run (sort, filter, choose columns; empty columns hidden), grouped
// into arms with mean ± sd across seeds, coloured by group with a line style per seed; select
// runs to overlay their curves, compare their evals, and see their config diff beside the table.
// Rows are summaries (run.json, last metric values, eval summaries), not whole runs.
import type { RunSummary } from '@atmanrl/runs';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { LineSwatch } from '../components/swatch.js';
import { ARM_BY_NAME, type GroupBy, seriesStyles } from '../data/groups.js';
import { formatRoute } from '../data/route.js';
import { clearRunIndex, getRunIndex } from '../data/run-index.js';
import { loadRunRows, type RunRow } from '../data/run-rows.js';
import {
  availableColumns,
  type Column,
  DEFAULT_COLUMNS,
  diffWithoutNoise,
  filterRows,
  groupRows,
  NOISE_KEYS,
  nonEmptyColumns,
  sortRows,
} from '../data/runs-table.js';
import type { SiteSource } from '../source.js';
import { ExperimentReport } from './experiment.js';
import { ExperimentList } from './experiment-list.js';

/** Metrics shown as columns by default (last finite value). */
export const KEY_METRICS = [
  'reward',
  'accuracy',
  'rewards/saliency/mean',
  'kl',
  'completions/mean_length',
];

function cell(c: Column, r: RunRow): string {
  const v = c.value(r);
  if (v === null) return '—';
  if (c.id === 'steps') return r.info?.totalSteps ? `${v} / ${r.info.totalSteps}` : String(v);
  if (c.id === 'created') return new Date(String(v)).toLocaleString();
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(2)
      : v.toFixed(3);
  }
  return v;
}

/** The experiment folder of a run id in a folder of experiments (`<exp>/runs/<job>/<run>`). */
export function experimentOf(id: string): string | null {
  const i = id.indexOf('/runs/');
  return i > 0 ? id.slice(0, i) : null;
}

function groupingName(r: RunRow, names: ReadonlyMap<string, string>, dir: string): string {
  const name =
    r.kind === 'eval'
      ? r.evaluated?.runId
        ? (names.get(r.evaluated.runId) ?? r.label)
        : r.label
      : (r.info?.name ?? r.id);
  // In a folder of experiments, arms of different experiments share names (A-outcome): keep
  // them apart by their experiment's folder.
  const exp = dir === '' ? experimentOf(r.id) : null;
  return exp === null ? name : `${exp}/${name}`;
}

type GroupChoice = 'none' | 'arm' | 'config' | 'pattern';

/** The runs list page. */
export function RunsList(props: { site: SiteSource; dir?: string }) {
  const { site } = props;
  const dir = props.dir ?? '';
  const [summaries, setSummaries] = useState<RunSummary[] | null>(null);
  const [rows, setRows] = useState<RunRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState<'all' | 'train' | 'eval'>('all');
  const [sort, setSort] = useState<{ id: string; dir: 'asc' | 'desc' } | null>(null);
  const [chosen, setChosen] = useState<readonly string[]>(DEFAULT_COLUMNS);
  const [groupChoice, setGroupChoice] = useState<GroupChoice>('arm');
  const [groupConfigKey, setGroupConfigKey] = useState('saliencyDirection');
  const [groupPattern, setGroupPattern] = useState(
    ARM_BY_NAME.kind === 'name' ? ARM_BY_NAME.pattern : '',
  );
  useEffect(() => {
    let cancelled = false;
    if (reload > 0) clearRunIndex(site);
    site.invalidate();
    setRows(null);
    getRunIndex(site)
      .then(async (all) => {
        if (cancelled) return;
        const s = dir === '' ? all : all.filter((r) => r.id.startsWith(`${dir}/`));
        setSummaries(s);
        const loaded = await loadRunRows(site, s);
        if (!cancelled) setRows(loaded);
      })
      .catch((e: unknown) => {
        if (!cancelled) setError((e as Error).message);
      });
    return () => {
      cancelled = true;
    };
  }, [site, reload, dir]);
  const names = useMemo(
    () => new Map((summaries ?? []).map((s) => [s.id, s.info?.name ?? s.id])),
    [summaries],
  );
  const groupBy: GroupBy =
    groupChoice === 'none'
      ? { kind: 'none' }
      : groupChoice === 'config'
        ? { kind: 'config', key: groupConfigKey }
        : groupChoice === 'pattern'
          ? { kind: 'name', pattern: groupPattern }
          : ARM_BY_NAME;
  const all = rows ?? [];
  const columns = useMemo(() => availableColumns(all), [all]);
  const shownRows = useMemo(() => {
    const byKind = kind === 'all' ? all : all.filter((r) => r.kind === kind);
    return filterRows(byKind, query);
  }, [all, kind, query]);
  const wanted = columns.filter((c) => chosen.includes(c.id));
  const visible = nonEmptyColumns(wanted, shownRows);
  const hiddenEmpty = wanted.filter((c) => !visible.includes(c));
  const sortColumn = sort ? (columns.find((c) => c.id === sort.id) ?? null) : null;
  // Without a sort column: by name, each training run followed by its evaluation.
  const sorted = sortColumn
    ? sortRows(shownRows, sortColumn, sort?.dir ?? 'asc')
    : [...shownRows].sort(
        (a, b) =>
          groupingName(a, names, dir).localeCompare(groupingName(b, names, dir)) ||
          Number(a.kind === 'eval') - Number(b.kind === 'eval'),
      );
  const groups = groupRows(
    sorted,
    groupBy,
    visible,
    (r) => groupingName(r, names, dir),
    sortColumn === null,
  );
  const flat = groups.flatMap((g) => g.rows.map((r) => ({ r, key: g.key })));
  const styles = new Map(
    seriesStyles(
      flat.map((x) => x.key),
      flat.map((x) => groupingName(x.r, names, dir)),
    ).map((s, i) => [flat[i]!.r.id, s] as const),
  );
  const grouped = groupBy.kind !== 'none' && groups.some((g) => g.key !== null);
  const toggle = (id: string) =>
    setSelected((prev) => (prev.includes(id) ? prev.filter((x) => x !== id) : [...prev, id]));
  const setMany = (ids: string[], on: boolean) =>
    setSelected((prev) =>
      on
        ? [...prev, ...ids.filter((id) => !prev.includes(id))]
        : prev.filter((x) => !ids.includes(x)),
    );
  const byId = new Map(all.map((r) => [r.id, r]));
  const selectedTrain = selected.filter((id) => byId.get(id)?.kind !== 'eval');
  const selectedEval = selected.filter((id) => byId.get(id)?.kind === 'eval');
  const diff =
    selected.length >= 2
      ? diffWithoutNoise(selected.map((id) => byId.get(id)?.info?.config ?? {}))
      : null;
  const sortBy = (id: string) =>
    setSort((prev) =>
      prev?.id === id ? { id, dir: prev.dir === 'asc' ? 'desc' : 'asc' } : { id, dir: 'desc' },
    );
  const ariaSort = (id: string) =>
    sort?.id === id ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined;
  const configKeys = useMemo(() => {
    const keys = new Set<string>();
    for (const r of all) for (const k of Object.keys(r.info?.config ?? {})) keys.add(k);
    return [...keys].sort();
  }, [all]);
  const rowView = (r: RunRow) => {
    const style = styles.get(r.id);
    const href =
      r.kind === 'eval'
        ? formatRoute({ page: 'eval', runId: r.id, with: [] })
        : formatRoute({ page: 'overview', runId: r.id, with: [] });
    return (
      <tr key={r.id} data-run={r.id} class={selected.includes(r.id) ? 'selected' : undefined}>
        <td class="select-cell">
          <input
            type="checkbox"
            id={`select-${r.id}`}
            aria-label={`Select ${r.label}`}
            checked={selected.includes(r.id)}
            onChange={() => toggle(r.id)}
          />
        </td>
        <th scope="row" class="run-cell">
          {style ? <LineSwatch color={style.color} dash={style.dash} /> : null}
          <a href={href}>{r.label}</a>
          <div class="run-id">{r.id}</div>
        </th>
        {visible.map((c) => (
          <td key={c.id} class={c.numeric ? 'num' : undefined} data-col={c.id} data-label={c.label}>
            {c.id === 'status' ? (
              <span
                class={`status status-${r.stale ? 'stale' : (r.info?.status ?? 'unknown')}`}
                title={r.stale ? 'run.json says running, but its writer is gone' : undefined}
              >
                {cell(c, r)}
              </span>
            ) : c.id === 'problems' && r.problems.length > 0 ? (
              <span title={r.problems.join('\n')}>{cell(c, r)}</span>
            ) : (
              cell(c, r)
            )}
          </td>
        ))}
      </tr>
    );
  };
  return (
    <main id="main" class="runs-page">
      <h1 tabIndex={-1} id="page-title">
        {dir === '' ? 'Runs' : `Runs of ${dir}`}
      </h1>
      {dir === '' ? <ExperimentList site={site} /> : null}
      <ExperimentReport site={site} dir={dir} rows={all} names={names} />
      {error ? <p class="error">Could not list runs: {error}</p> : null}
      {summaries === null && !error ? <p>Loading…</p> : null}
      {summaries?.length === 0 ? (
        <p>No runs in this folder yet (a run is a folder with a run.json).</p>
      ) : null}
      {summaries && summaries.length > 0 ? (
        <>
          <div class="toolbar runs-toolbar">
            <button type="button" onClick={() => setReload((n) => n + 1)}>
              Refresh
            </button>
            <label class="control">
              Filter{' '}
              <input
                type="search"
                value={query}
                placeholder="name, id, status…"
                onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
              />
            </label>
            <label class="control">
              Kind{' '}
              <select
                value={kind}
                onChange={(e) =>
                  setKind((e.target as HTMLSelectElement).value as 'all' | 'train' | 'eval')
                }
              >
                <option value="all">all</option>
                <option value="train">training runs</option>
                <option value="eval">eval runs</option>
              </select>
            </label>
            <label class="control">
              Group by{' '}
              <select
                value={groupChoice}
                onChange={(e) =>
                  setGroupChoice((e.target as HTMLSelectElement).value as GroupChoice)
                }
              >
                <option value="arm">arm (name without seed)</option>
                <option value="config">config key</option>
                <option value="pattern">name pattern</option>
                <option value="none">no grouping</option>
              </select>
            </label>
            {groupChoice === 'config' ? (
              <label class="control">
                Key{' '}
                <select
                  value={groupConfigKey}
                  onChange={(e) => setGroupConfigKey((e.target as HTMLSelectElement).value)}
                >
                  {configKeys.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            {groupChoice === 'pattern' ? (
              <label class="control">
                Pattern (regex, group = first capture){' '}
                <input
                  type="text"
                  value={groupPattern}
                  onInput={(e) => setGroupPattern((e.target as HTMLInputElement).value)}
                />
              </label>
            ) : null}
            <details class="columns-pick">
              <summary>Columns ({visible.length})</summary>
              <div class="pick-list">
                {columns.map((c) => (
                  <label key={c.id}>
                    <input
                      type="checkbox"
                      checked={chosen.includes(c.id)}
                      onChange={() =>
                        setChosen((prev) =>
                          prev.includes(c.id) ? prev.filter((x) => x !== c.id) : [...prev, c.id],
                        )
                      }
                    />{' '}
                    {c.label}
                  </label>
                ))}
              </div>
            </details>
          </div>
          <div class="toolbar selection-bar" aria-live="polite">
            {selected.length === 0 ? (
              <span class="hint">
                Select runs to overlay their curves, compare their evals or diff their configs.
              </span>
            ) : (
              <>
                <span>{selected.length} selected</span>
                {selectedTrain.length > 0 ? (
                  <a
                    class="button"
                    href={formatRoute({
                      page: 'overview',
                      runId: selectedTrain[0]!,
                      with: selectedTrain.slice(1),
                    })}
                  >
                    Overlay curves of {selectedTrain.length}
                  </a>
                ) : null}
                {selectedEval.length > 0 ? (
                  <a
                    class="button"
                    href={formatRoute({
                      page: 'eval',
                      runId: selectedEval[0]!,
                      with: selectedEval.slice(1),
                    })}
                  >
                    Compare evals of {selectedEval.length}
                  </a>
                ) : null}
                <button type="button" onClick={() => setSelected([])}>
                  Clear selection
                </button>
              </>
            )}
          </div>
          {rows === null ? <p>Loading run summaries…</p> : null}
          <div class={diff ? 'runs-layout with-diff' : 'runs-layout'}>
            <div class="runs-main">
              <table class="runs-table">
                <caption class="sr-only">Runs</caption>
                <thead>
                  <tr>
                    <th scope="col" class="select-cell">
                      <span class="sr-only">Select</span>
                    </th>
                    <th scope="col" aria-sort={ariaSort('run')}>
                      Run
                    </th>
                    {visible.map((c) => (
                      <th
                        key={c.id}
                        scope="col"
                        class={c.numeric ? 'num' : undefined}
                        aria-sort={ariaSort(c.id)}
                      >
                        <button type="button" class="sort" onClick={() => sortBy(c.id)}>
                          {c.label}
                          <span aria-hidden="true">
                            {sort?.id === c.id ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                          </span>
                        </button>
                      </th>
                    ))}
                  </tr>
                </thead>
                {groups.map((g) =>
                  grouped ? (
                    <tbody key={g.key ?? '\u0000'} class="run-group" data-group={g.key ?? ''}>
                      <tr class="group-row">
                        <td class="select-cell">
                          <input
                            type="checkbox"
                            aria-label={`Select all of ${g.key ?? 'ungrouped'}`}
                            checked={g.rows.every((r) => selected.includes(r.id))}
                            onChange={(e) =>
                              setMany(
                                g.rows.map((r) => r.id),
                                (e.target as HTMLInputElement).checked,
                              )
                            }
                          />
                        </td>
                        <th scope="rowgroup" class="run-cell">
                          {g.key ?? 'ungrouped'}{' '}
                          <span class="run-id">
                            {g.rows.length} run{g.rows.length === 1 ? '' : 's'}
                          </span>
                        </th>
                        {visible.map((c) => {
                          const s = g.key === null ? undefined : g.stats.get(c.id);
                          return (
                            <td
                              key={c.id}
                              class={c.numeric ? 'num' : undefined}
                              data-col={c.id}
                              data-label={`${c.label} (mean ± sd)`}
                              data-empty={s ? undefined : ''}
                            >
                              {s && s.n > 1
                                ? `${fmt3(s.mean)} ± ${fmt3(s.sd)}`
                                : s
                                  ? fmt3(s.mean)
                                  : ''}
                            </td>
                          );
                        })}
                      </tr>
                      {g.rows.map(rowView)}
                    </tbody>
                  ) : (
                    <tbody key={g.key ?? '\u0000'}>{g.rows.map(rowView)}</tbody>
                  ),
                )}
              </table>
              {hiddenEmpty.length > 0 ? (
                <p class="hint">
                  Hidden (no values in these runs): {hiddenEmpty.map((c) => c.label).join(', ')}.
                </p>
              ) : null}
            </div>
            {diff ? (
              <aside aria-labelledby="diff-title" class="config-diff">
                <h2 id="diff-title">Config diff ({selected.length} runs)</h2>
                <p>
                  {diff.rows.length} differing key{diff.rows.length === 1 ? '' : 's'}, {diff.same}{' '}
                  identical; not compared: {NOISE_KEYS.join(', ')}.
                </p>
                {diff.rows.length > 0 ? (
                  <div class="table-scroll">
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">key</th>
                          {selected.map((id) => (
                            <th key={id} scope="col">
                              {byId.get(id)?.label ?? id}
                            </th>
                          ))}
                        </tr>
                      </thead>
                      <tbody>
                        {diff.rows.map((d) => (
                          <tr key={d.key}>
                            <th scope="row">
                              <code>{d.key}</code>
                            </th>
                            {d.values.map((v, i) => (
                              <td key={selected[i]}>
                                <code>{v}</code>
                              </td>
                            ))}
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                ) : null}
              </aside>
            ) : null}
          </div>
        </>
      ) : null}
    </main>
  );
}

function fmt3(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
