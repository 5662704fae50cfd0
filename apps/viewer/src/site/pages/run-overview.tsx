// Run overview: one chart per metric of metrics.jsonl, grouped by section, with EMA smoothing
// and other runs overlaid.
import type { LoadedRun } from '@atmanrl/runs';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { withAlpha } from '../components/colors.js';
import { Plot, type PlotBand, type PlotSeries } from '../components/plot.js';
import { Problems } from '../components/problems.js';
import { EvaluatedIn } from '../components/related-runs.js';
import { RunHeader } from '../components/run-header.js';
import { LineSwatch } from '../components/swatch.js';
import { metricUnit } from '../data/axes.js';
import {
  alignSeries,
  countPoints,
  groupMetricNames,
  type MetricSeries,
  meanSeries,
  metricNames,
  metricSeries,
  rangeSeries,
} from '../data/curves.js';
import { ARM_BY_NAME, groupKey, type SeriesStyle, seriesStyles } from '../data/groups.js';
import { formatRoute } from '../data/route.js';
import { emaSmooth } from '../data/smoothing.js';
import type { SiteSource } from '../source.js';
import { useRun, useRuns } from '../use-run.js';
import { useRunIndex } from '../use-run-index.js';

/** A run on the overview with its overlay style. */
export interface StyledRun {
  run: LoadedRun;
  label: string;
  style: SeriesStyle;
}

/** One curve of a chart: a run, or an arm's mean over its runs (with its seeds' min–max band). */
interface Unit {
  label: string;
  style: SeriesStyle;
  series: MetricSeries;
  band?: { steps: number[]; lo: (number | null)[]; hi: (number | null)[] };
}

function chartUnits(name: string, runs: StyledRun[], armMeans: boolean): Unit[] {
  const own = runs.map((r) => ({
    label: r.label,
    style: r.style,
    series: metricSeries(r.run.metrics, name),
  }));
  if (!armMeans) return own;
  const groups = new Map<string, Unit[]>();
  own.forEach((u, i) => {
    const key = runs[i]!.style.group ?? `\u0000${runs[i]!.run.id}`;
    groups.set(key, [...(groups.get(key) ?? []), u]);
  });
  return [...groups.entries()].map(([key, members]) =>
    members.length === 1
      ? members[0]!
      : {
          label: `${key} (mean of ${members.length})`,
          style: { ...members[0]!.style, dash: undefined },
          series: meanSeries(members.map((m) => m.series)),
          band: rangeSeries(members.map((m) => m.series)),
        },
  );
}

/** One chart of a metric over steps: each run's curve, or each arm's mean with its seed band. */
export function MetricChart(props: {
  name: string;
  runs: StyledRun[];
  smoothing: number;
  syncKey: string;
  armMeans: boolean;
  /** A note under the title (e.g. that the runs define this metric differently). */
  note?: string;
}) {
  const { name, runs, smoothing, armMeans } = props;
  const { data, series, points, bands } = useMemo(() => {
    const units = chartUnits(name, runs, armMeans);
    const raw = units.map((u) => u.series);
    const cols: { x: number[]; y: (number | null)[] }[] = [];
    const series: PlotSeries[] = [];
    const bands: PlotBand[] = [];
    raw.forEach((s, i) => {
      const { label, style, band } = units[i]!;
      const dash = style.dash ? { dash: style.dash } : {};
      if (band) {
        // The seeds' min–max, shaded between two faint edge lines that hide with the mean.
        const edge = {
          color: withAlpha(style.color, 0.35),
          width: 1,
          legend: false,
          partOf: label,
        };
        cols.push({ x: band.steps, y: band.hi });
        series.push({ label: `${label} max`, ...edge });
        cols.push({ x: band.steps, y: band.lo });
        series.push({ label: `${label} min`, ...edge });
        bands.push({ upper: series.length - 2, lower: series.length - 1, color: style.color });
      }
      if (smoothing > 0) {
        cols.push({ x: s.steps, y: s.values });
        series.push({
          label: `${label} (raw)`,
          color: withAlpha(style.color, 0.3),
          width: 1,
          legend: false,
        });
        cols.push({ x: s.steps, y: emaSmooth(s.values, smoothing) });
        series.push({ label, color: style.color, width: 2, ...dash });
      } else {
        cols.push({ x: s.steps, y: s.values });
        series.push({
          label,
          color: style.color,
          width: 1.5,
          points: s.steps.length <= 2,
          ...dash,
        });
      }
    });
    return {
      data: alignSeries(cols),
      series,
      points: raw.map((s) => countPoints(s.values)),
      bands,
    };
  }, [name, runs, smoothing, armMeans]);
  return (
    <Plot
      title={name}
      unit={metricUnit(name)}
      integerX
      syncKey={props.syncKey}
      data={data}
      series={series}
      points={points}
      attrs={{ 'data-metric': name }}
      bands={bands}
      {...(bands.length > 0 || props.note
        ? {
            caption: [bands.length > 0 ? 'shaded: min–max over the seeds' : '', props.note ?? '']
              .filter((x) => x !== '')
              .join(' · '),
          }
        : {})}
    />
  );
}

/** Config keys that define the training reward (besides the outcome). */
const REWARD_KEYS = /^(saliency(Reward|Weight|Direction|Gate)|reward\w*|scaleRewards)$/;

/** The reward-defining config keys whose values differ across `runs` (sorted). */
export function rewardDifferences(runs: readonly StyledRun[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.run.info?.config ?? {})));
  return [...keys]
    .filter((k) => REWARD_KEYS.test(k))
    .filter((k) => new Set(runs.map((r) => JSON.stringify(r.run.info?.config[k] ?? null))).size > 1)
    .sort();
}

/** The one legend of the page: each run's colour and line style. */
export function RunsLegend(props: { runs: StyledRun[] }) {
  return (
    <ul class="runs-legend" aria-label="Runs on this page">
      {props.runs.map(({ run, label, style }) => (
        <li key={run.id}>
          <LineSwatch color={style.color} dash={style.dash} />
          <a href={formatRoute({ page: 'overview', runId: run.id, with: [] })}>{label}</a>
          {style.group && style.group !== label ? (
            <span class="group-name"> ({style.group})</span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** The run overview page (curves). */
export function RunOverview(props: { site: SiteSource; runId: string; with: string[] }) {
  const { site, runId } = props;
  const { run, error, following } = useRun(site, runId, { samples: false });
  const overlays = useRuns(site, props.with);
  const [smoothing, setSmoothing] = useState(0);
  const [armMeans, setArmMeans] = useState(false);
  const index = useRunIndex(site);
  const others = useMemo(
    () => index.filter((r) => r.id !== runId && r.info?.command !== 'eval'),
    [index, runId],
  );
  const runs = useMemo((): StyledRun[] => {
    const loaded = run
      ? [run, ...props.with.map((id) => overlays.get(id)).filter((r): r is LoadedRun => !!r)]
      : [];
    const labels = loaded.map((r) => r.info?.name ?? r.id);
    // Seeds of one arm share a colour and differ by line style.
    const styles = seriesStyles(
      labels.map((l) => (loaded.length > 1 ? groupKey(ARM_BY_NAME, l, undefined) : null)),
    );
    return loaded.map((r, i) => ({ run: r, label: labels[i]!, style: styles[i]! }));
  }, [run, overlays, props.with]);
  const sections = useMemo(
    () => groupMetricNames(metricNames(runs.flatMap((r) => r.run.metrics))),
    [runs],
  );
  const rewardDiff = useMemo(() => rewardDifferences(runs), [runs]);
  const rewardNote =
    rewardDiff.length > 0
      ? `the runs define the reward differently (${rewardDiff.join(', ')}): compare rewards/outcome/mean`
      : undefined;
  // An eval run has no curves of its own: open its evaluation instead.
  useEffect(() => {
    if (run?.info?.command === 'eval' && run.metrics.length === 0 && props.with.length === 0)
      window.location.replace(formatRoute({ page: 'eval', runId, with: [] }));
  }, [run, runId, props.with.length]);
  const missing: string[] = [];
  if (run && run.metrics.length === 0)
    missing.push('No complete metrics line yet: the run has zero logged steps.');
  const toggleOverlay = (id: string) => {
    const next = props.with.includes(id) ? props.with.filter((x) => x !== id) : [...props.with, id];
    window.location.hash = formatRoute({ page: 'overview', runId, with: next });
  };
  return (
    <main id="main">
      <RunHeader
        runId={runId}
        run={run}
        page="overview"
        following={following}
        {...(runs.length > 1
          ? {
              title: `${runs.length} runs overlaid`,
              subtitle: (
                <span>
                  The tabs and status are those of {runs[0]!.label}; untick it below to drop it.
                </span>
              ),
            }
          : {})}
      />
      <EvaluatedIn site={site} runId={runId} />
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
          {runs.some(
            (r, i) =>
              r.style.group !== null &&
              runs.findIndex((x) => x.style.group === r.style.group) !== i,
          ) ? (
            <label class="control">
              <input
                type="checkbox"
                checked={armMeans}
                onChange={(e) => setArmMeans((e.target as HTMLInputElement).checked)}
              />{' '}
              Mean per arm (over its seeds)
            </label>
          ) : null}
          {others.length > 0 ? (
            <fieldset class="control overlay">
              <legend>Overlay runs</legend>
              {props.with.length > 0 ? (
                <label>
                  <input
                    type="checkbox"
                    checked
                    onChange={() => {
                      // Drop the page's own run: the first overlaid run becomes the page's.
                      window.location.hash = formatRoute({
                        page: 'overview',
                        runId: props.with[0]!,
                        with: props.with.slice(1),
                      });
                    }}
                  />{' '}
                  {run?.info?.name ?? runId}
                </label>
              ) : null}
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
      {runs.length > 1 ? <RunsLegend runs={runs} /> : null}
      {sections.length > 1 ? (
        <nav class="chart-jump" aria-label="Chart groups">
          Jump to:
          {sections.map((section) => (
            <button
              key={section.title}
              type="button"
              onClick={() => {
                const h = document.getElementById(`sec-${section.title}`);
                h?.scrollIntoView({ block: 'start' });
                h?.focus({ preventScroll: true });
              }}
            >
              {section.title}
            </button>
          ))}
        </nav>
      ) : null}
      {sections.map((section) => (
        <section
          key={section.title}
          class="metric-section"
          aria-labelledby={`sec-${section.title}`}
        >
          <h2 id={`sec-${section.title}`} tabIndex={-1}>
            {section.title}
          </h2>
          <div class="plots">
            {section.names.map((name) => (
              <MetricChart
                key={name}
                name={name}
                runs={runs}
                smoothing={smoothing}
                armMeans={armMeans}
                syncKey={`overview:${runId}`}
                {...(rewardNote && /^(reward|reward_std)$/.test(name) ? { note: rewardNote } : {})}
              />
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
