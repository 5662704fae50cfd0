// Runs list: every run with status, steps and key metrics; select runs to diff their configs or
// overlay their curves.
import { type LoadedRun, listRuns, type RunSummary } from '@atmanrl/runs';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { diffConfigs } from '../data/config-diff.js';
import { lastValue } from '../data/curves.js';
import { formatRoute } from '../data/route.js';
import type { SiteSource } from '../source.js';
import { useRuns } from '../use-run.js';

/** Metrics shown as columns (last finite value). */
export const KEY_METRICS = [
  'reward',
  'accuracy',
  'rewards/saliency/mean',
  'kl',
  'completions/mean_length',
];

function fmt(v: number | null): string {
  if (v === null) return '—';
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(3);
}

function steps(run: LoadedRun | undefined): string {
  if (!run) return '…';
  const last = run.metrics.length > 0 ? run.metrics[run.metrics.length - 1]!.step : 0;
  return run.info?.totalSteps ? `${last} / ${run.info.totalSteps}` : String(last);
}

/** The runs list page. */
export function RunsList(props: { site: SiteSource }) {
  const { site } = props;
  const [summaries, setSummaries] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  useEffect(() => {
    let cancelled = false;
    site.invalidate();
    listRuns(site.source)
      .then((s) => {
        if (!cancelled) setSummaries(s);
      })
      .catch((e: unknown) => {
        if (!cancelled) setError((e as Error).message);
      });
    return () => {
      cancelled = true;
    };
  }, [site, reload]);
  const ids = useMemo(() => (summaries ?? []).map((s) => s.id), [summaries]);
  const runs = useRuns(site, ids);
  const toggle = (id: string) =>
    setSelected((prev) => (prev.includes(id) ? prev.filter((x) => x !== id) : [...prev, id]));
  const diff = useMemo(
    () =>
      selected.length >= 2
        ? diffConfigs(selected.map((id) => runs.get(id)?.info?.config ?? {}))
        : null,
    [selected, runs],
  );
  return (
    <main id="main">
      <h1 tabIndex={-1} id="page-title">
        Runs
      </h1>
      {error ? <p class="error">Could not list runs: {error}</p> : null}
      {summaries === null && !error ? <p>Loading…</p> : null}
      {summaries?.length === 0 ? (
        <p>No runs in this folder yet (a run is a folder with a run.json).</p>
      ) : null}
      {summaries && summaries.length > 0 ? (
        <>
          <div class="toolbar">
            <button type="button" onClick={() => setReload((n) => n + 1)}>
              Refresh
            </button>
            {selected.length >= 1 ? (
              <a
                class="button"
                href={formatRoute({
                  page: 'overview',
                  runId: selected[0]!,
                  with: selected.slice(1),
                })}
              >
                Overlay curves of {selected.length} selected
              </a>
            ) : (
              <span class="hint">
                Select runs to overlay their curves or compare their configs.
              </span>
            )}
          </div>
          <table class="runs-table">
            <caption class="sr-only">Runs</caption>
            <thead>
              <tr>
                <th scope="col">Select</th>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Steps</th>
                {KEY_METRICS.map((m) => (
                  <th key={m} scope="col" class="num">
                    {m}
                  </th>
                ))}
                <th scope="col">Created</th>
                <th scope="col">Problems</th>
              </tr>
            </thead>
            <tbody>
              {summaries.map((s) => {
                const run = runs.get(s.id);
                return (
                  <tr key={s.id} data-run={s.id}>
                    <td>
                      <input
                        type="checkbox"
                        id={`select-${s.id}`}
                        aria-label={`Select ${s.info?.name ?? s.id}`}
                        checked={selected.includes(s.id)}
                        onChange={() => toggle(s.id)}
                      />
                    </td>
                    <th scope="row">
                      <a href={formatRoute({ page: 'overview', runId: s.id, with: [] })}>
                        {s.info?.name ?? s.id}
                      </a>
                      <div class="run-id">{s.id}</div>
                    </th>
                    <td>
                      <span class={`status status-${s.info?.status ?? 'unknown'}`}>
                        {s.info?.status ?? 'broken'}
                      </span>
                    </td>
                    <td class="num">{steps(run)}</td>
                    {KEY_METRICS.map((m) => (
                      <td key={m} class="num">
                        {run ? fmt(lastValue(run.metrics, m)) : '…'}
                      </td>
                    ))}
                    <td>{s.info ? new Date(s.info.createdAt).toLocaleString() : '—'}</td>
                    <td>
                      {s.problem ??
                        (run ? (run.problems.length === 0 ? '—' : `${run.problems.length}`) : '…')}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {diff ? (
            <section aria-labelledby="diff-title" class="config-diff">
              <h2 id="diff-title">Config diff ({selected.length} runs)</h2>
              <p>
                {diff.rows.length} differing key{diff.rows.length === 1 ? '' : 's'}, {diff.same}{' '}
                identical.
              </p>
              {diff.rows.length > 0 ? (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">key</th>
                      {selected.map((id) => (
                        <th key={id} scope="col">
                          {runs.get(id)?.info?.name ?? id}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {diff.rows.map((r) => (
                      <tr key={r.key}>
                        <th scope="row">
                          <code>{r.key}</code>
                        </th>
                        {r.values.map((v, i) => (
                          <td key={selected[i]}>
                            <code>{v}</code>
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </section>
          ) : null}
        </>
      ) : null}
    </main>
  );
}
