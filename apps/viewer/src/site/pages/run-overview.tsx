// Run overview: one chart per metric of metrics.jsonl, grouped by section, with EMA smoothing
// and other runs overlaid.
import { type LoadedRun, listRuns, type RunSummary } from '@atmanrl/runs';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { runColor, withAlpha } from '../components/colors.js';
import { Plot, type PlotSeries } from '../components/plot.js';
import { Problems } from '../components/problems.js';
import { RunHeader } from '../components/run-header.js';
import {
  alignSeries,
  countPoints,
  groupMetricNames,
  lastValue,
  metricNames,
  metricSeries,
} from '../data/curves.js';
import { formatNumber } from '../data/format.js';
import { formatRoute } from '../data/route.js';
import { emaSmooth } from '../data/smoothing.js';
import type { SiteSource } from '../source.js';
import { useRun, useRuns } from '../use-run.js';

function MetricChart(props: { name: string; runs: LoadedRun[]; smoothing: number }) {
  const { name, runs, smoothing } = props;
  const { data, series, points } = useMemo(() => {
    const raw = runs.map((r) => metricSeries(r.metrics, name));
    const cols: { x: number[]; y: (number | null)[] }[] = [];
    const series: PlotSeries[] = [];
    raw.forEach((s, i) => {
      const label = runs[i]!.info?.name ?? runs[i]!.id;
      if (smoothing > 0) {
        cols.push({ x: s.steps, y: s.values });
        series.push({
          label: `${label} (raw)`,
          color: withAlpha(runColor(i), 0.3),
          width: 1,
          legend: false,
        });
        cols.push({ x: s.steps, y: emaSmooth(s.values, smoothing) });
        series.push({ label, color: runColor(i), width: 2 });
      } else {
        cols.push({ x: s.steps, y: s.values });
        series.push({ label, color: runColor(i), width: 1.5, points: s.steps.length <= 2 });
      }
    });
    return { data: alignSeries(cols), series, points: raw.map((s) => countPoints(s.values)) };
  }, [name, runs, smoothing]);
  const last = lastValue(runs[0]!.metrics, name);
  return (
    <Plot
      title={name}
      caption={last === null ? 'no finite value' : `last ${formatNumber(last)}`}
      data={data}
      series={series}
      points={points}
      attrs={{ 'data-metric': name }}
    />
  );
}

/** The run overview page (curves). */
export function RunOverview(props: { site: SiteSource; runId: string; with: string[] }) {
  const { site, runId } = props;
  const { run, error, following } = useRun(site, runId, { samples: false });
  const overlays = useRuns(site, props.with);
  const [smoothing, setSmoothing] = useState(0);
  const [others, setOthers] = useState<RunSummary[]>([]);
  useEffect(() => {
    let cancelled = false;
    listRuns(site.source)
      .then((s) => {
        if (!cancelled) setOthers(s.filter((r) => r.id !== runId));
      })
      .catch(() => {
        if (!cancelled) setOthers([]);
      });
    return () => {
      cancelled = true;
    };
  }, [site, runId]);
  const runs = useMemo(
    () =>
      run
        ? [run, ...props.with.map((id) => overlays.get(id)).filter((r): r is LoadedRun => !!r)]
        : [],
    [run, overlays, props.with],
  );
  const sections = useMemo(
    () => groupMetricNames(metricNames(runs.flatMap((r) => r.metrics))),
    [runs],
  );
  const missing: string[] = [];
  if (run && run.metrics.length === 0)
    missing.push('No complete metrics line yet: the run has zero logged steps.');
  const toggleOverlay = (id: string) => {
    const next = props.with.includes(id) ? props.with.filter((x) => x !== id) : [...props.with, id];
    window.location.hash = formatRoute({ page: 'overview', runId, with: next });
  };
  return (
    <main id="main">
      <RunHeader runId={runId} run={run} page="overview" following={following} />
      {error ? <p class="error">{error}</p> : null}
      {!run && !error ? <p>Loading…</p> : null}
      {run ? <Problems run={run} missing={missing} /> : null}
      {run ? (
        <div class="controls">
          <label class="control">
            Smoothing (EMA weight) <output>{smoothing.toFixed(2)}</output>
            <input
              type="range"
              min="0"
              max="0.99"
              step="0.01"
              value={smoothing}
              aria-label="Smoothing"
              onInput={(e) => setSmoothing(Number((e.target as HTMLInputElement).value))}
            />
          </label>
          {others.length > 0 ? (
            <fieldset class="control overlay">
              <legend>Overlay runs</legend>
              {others.map((o) => (
                <label key={o.id}>
                  <input
                    type="checkbox"
                    checked={props.with.includes(o.id)}
                    onChange={() => toggleOverlay(o.id)}
                  />{' '}
                  {o.info?.name ?? o.id}
                </label>
              ))}
            </fieldset>
          ) : null}
        </div>
      ) : null}
      {sections.map((section) => (
        <section
          key={section.title}
          class="metric-section"
          aria-labelledby={`sec-${section.title}`}
        >
          <h2 id={`sec-${section.title}`}>{section.title}</h2>
          <div class="plots">
            {section.names.map((name) => (
              <MetricChart key={name} name={name} runs={runs} smoothing={smoothing} />
            ))}
          </div>
        </section>
      ))}
      {run?.info ? (
        <details class="config">
          <summary>
            Resolved config, seed {run.info.seed}, backend {run.info.backend.name}
          </summary>
          <pre>{JSON.stringify(run.info.config, null, 2)}</pre>
        </details>
      ) : null}
    </main>
  );
}
