// Evaluation: the eval/*.json reports of a run, compared with other runs' reports of the same
// name: one table of summary metrics, each against its own baseline with the difference, and
// every curve (early answering, adding mistakes, deletion/insertion) overlaid across runs with
// each run's baseline dashed. An eval run is labelled by the run and checkpoint it evaluated.

import type { EvalCurve, EvalReport, LoadedRun, RunSummary } from '@atmanrl/runs';
import { useMemo, useState } from 'preact/hooks';
import { RUN_COLORS, withAlpha } from '../components/colors.js';
import { Plot, type PlotBand, type PlotSeries } from '../components/plot.js';
import { Problems } from '../components/problems.js';
import { EvaluatedIn } from '../components/related-runs.js';
import { RunHeader } from '../components/run-header.js';
import { LineSwatch } from '../components/swatch.js';
import {
  baselineName,
  curveBaselineWord,
  formatSummaryValue,
  pairBaselines,
} from '../data/baselines.js';
import { alignSeries, countPoints } from '../data/curves.js';
import { type CurveBand, meanReports } from '../data/eval-means.js';
import { ARM_BY_NAME, groupKey, seriesStyles } from '../data/groups.js';
import { formatRoute } from '../data/route.js';
import { evalLabel, evalRunsOf, parseEvaluatedModel } from '../data/run-rows.js';
import type { SiteSource } from '../source.js';
import { useRun, useRuns } from '../use-run.js';
import { useRunIndex } from '../use-run-index.js';

const SINGLE = { color: RUN_COLORS[0]! };
const SINGLE_BASELINE = '#777777';
const BASELINE_DASH = [1, 5];

/** A run's label on this page: `eval of <run> @ <checkpoint>` for eval runs, else its name. */
export function runLabel(run: LoadedRun | RunSummary, index: readonly RunSummary[]): string {
  const info = run.info;
  const model =
    typeof info?.config.model === 'string'
      ? info.config.model
      : 'evals' in run
        ? run.evals[0]?.model
        : undefined;
  if (info?.command === 'eval' && model !== undefined) {
    const ev = parseEvaluatedModel(
      model,
      index.map((s) => s.id),
    );
    const name = ev.runId ? (index.find((s) => s.id === ev.runId)?.info?.name ?? ev.runId) : null;
    return evalLabel(ev, name);
  }
  return info?.name ?? run.id;
}

interface Compared {
  run: LoadedRun;
  label: string;
  color: string;
  dash: number[] | undefined;
  report: EvalReport;
  /** The arm (group) of the run, `null` when ungrouped. */
  group: string | null;
  /** For an arm's mean: each curve's min–max over the seeds. */
  bands?: Map<string, CurveBand>;
}

/** One column per arm: the mean of its seeds' reports (ungrouped runs stay as they are). */
function byArmMean(compared: readonly Compared[]): Compared[] {
  const groups = new Map<string, Compared[]>();
  for (const c of compared) {
    const key = c.group ?? `\u0000${c.run.id}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((members) => {
    if (members.length === 1) return members[0]!;
    const first = members[0]!;
    const { report, bands } = meanReports(members.map((m) => m.report));
    return {
      ...first,
      label: `${first.group} (mean of ${members.length})`,
      dash: undefined,
      report,
      bands,
    };
  });
}

function SummaryTable(props: { compared: Compared[] }) {
  const { compared } = props;
  const keys = [...new Set(compared.flatMap((c) => Object.keys(c.report.summary)))];
  const explicit = Object.assign(
    {},
    ...compared.map((c) => (c.report as { baselines?: Record<string, string> }).baselines ?? {}),
  ) as Record<string, string>;
  const pairs = pairBaselines(keys, explicit);
  return (
    <div class="table-scroll">
      <table class="eval-compare">
        <caption>Summary metrics, each against its own baseline (Δ = value − baseline)</caption>
        <thead>
          <tr>
            <th scope="col" rowSpan={2}>
              metric
            </th>
            <th scope="col" rowSpan={2}>
              baseline
            </th>
            {compared.map((c) => (
              <th key={c.run.id} scope="colgroup" colSpan={3} class="run-col">
                <LineSwatch color={c.color} dash={c.dash} />
                {c.label}
              </th>
            ))}
          </tr>
          <tr>
            {compared.flatMap((c) => [
              <th key={`${c.run.id}-v`} scope="col" class="num">
                value
              </th>,
              <th key={`${c.run.id}-b`} scope="col" class="num">
                baseline
              </th>,
              <th key={`${c.run.id}-d`} scope="col" class="num">
                Δ
              </th>,
            ])}
          </tr>
        </thead>
        <tbody>
          {pairs.map((p) => (
            <tr key={p.key} data-metric={p.key}>
              <th scope="row">
                <code>{p.key}</code>
              </th>
              <td>{p.baseline ? <code>{baselineName(p.key, p.baseline)}</code> : '—'}</td>
              {compared.flatMap((c) => {
                const v = c.report.summary[p.key];
                const b = p.baseline ? c.report.summary[p.baseline] : undefined;
                const d =
                  v !== undefined && v !== null && b !== undefined && b !== null ? v - b : null;
                return [
                  <td key={`${c.run.id}-v`} class="num" data-run={c.run.id} data-col="value">
                    {formatSummaryValue(v)}
                  </td>,
                  <td key={`${c.run.id}-b`} class="num" data-run={c.run.id} data-col="baseline">
                    {p.baseline ? formatSummaryValue(b) : ''}
                  </td>,
                  <td key={`${c.run.id}-d`} class="num" data-run={c.run.id} data-col="delta">
                    {d === null ? '' : `${d >= 0 ? '+' : '−'}${formatSummaryValue(Math.abs(d))}`}
                  </td>,
                ];
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function areaText(c: EvalCurve, word: string): string {
  const area = c.area;
  if (!area) return '';
  return `${area.kind} ${area.value.toFixed(3)}${area.baseline === undefined ? '' : ` (${word} ${area.baseline.toFixed(3)})`}`;
}

function CurveChart(props: { name: string; compared: Compared[] }) {
  const { name, compared } = props;
  const plot = useMemo(() => {
    const cols: { x: number[]; y: (number | null)[] }[] = [];
    const series: PlotSeries[] = [];
    const points: number[] = [];
    const bands: PlotBand[] = [];
    let first: EvalCurve | null = null;
    const single = compared.length === 1;
    for (const c of compared) {
      const curve = c.report.curves.find((x) => x.name === name);
      if (!curve) continue;
      first ??= curve;
      const word = curveBaselineWord(name, curve.area?.baseline, c.report.summary);
      const color = single ? SINGLE.color : c.color;
      cols.push({ x: curve.x, y: curve.y });
      series.push({
        label: single ? name : c.label,
        color,
        width: 2,
        points: true,
        ...(c.dash && !single ? { dash: c.dash } : {}),
        note: areaText(curve, word) || undefined,
      });
      points.push(countPoints(curve.y));
      const band = c.bands?.get(name);
      if (band) {
        const mine = single ? name : c.label;
        const edge = { color: withAlpha(color, 0.35), width: 1, legend: false, partOf: mine };
        cols.push({ x: band.x, y: band.hi });
        series.push({ label: `${mine} max`, ...edge });
        cols.push({ x: band.x, y: band.lo });
        series.push({ label: `${mine} min`, ...edge });
        bands.push({ upper: series.length - 2, lower: series.length - 1, color });
      }
      if (curve.baseline) {
        cols.push({ x: curve.baseline.x, y: curve.baseline.y });
        series.push({
          label: single ? `${word} baseline` : `${c.label} · ${word} baseline`,
          color: single ? SINGLE_BASELINE : `${color}99`,
          width: 1.5,
          // Sparse dots: unlike every seed's dash (groups.ts DASHES), so a baseline never reads as a seed.
          dash: BASELINE_DASH,
          points: true,
          note:
            curve.area?.baseline === undefined
              ? undefined
              : `${curve.area.kind} ${curve.area.baseline.toFixed(3)}`,
        });
        points.push(countPoints(curve.baseline.y));
      }
    }
    return { data: alignSeries(cols), series, points, first, bands };
  }, [name, compared]);
  if (!plot.first) return null;
  const only = compared.length === 1 ? compared[0]! : null;
  const onlyCurve = only?.report.curves.find((x) => x.name === name);
  const caption =
    only && onlyCurve
      ? areaText(onlyCurve, curveBaselineWord(name, onlyCurve.area?.baseline, only.report.summary))
      : plot.bands.length > 0
        ? 'shaded: min–max over the seeds'
        : undefined;
  return (
    <Plot
      title={name}
      caption={caption}
      data={plot.data}
      xLabel={plot.first.xLabel}
      yLabel={plot.first.yLabel}
      series={plot.series}
      points={plot.points}
      syncKey={`eval:${name}`}
      attrs={{ 'data-curve': name }}
      bands={plot.bands}
    />
  );
}

function ReportSection(props: { name: string; compared: Compared[] }) {
  const { name, compared } = props;
  const head = compared[0]!.report;
  const curveNames = [...new Set(compared.flatMap((c) => c.report.curves.map((x) => x.name)))];
  return (
    <section class="eval-report" aria-labelledby={`eval-${name}`} data-report={name}>
      <h2 id={`eval-${name}`}>{name}</h2>
      <p class="run-meta">
        on {head.dataset.name}/{head.dataset.split}
        {head.dataset.limit ? ` (${head.dataset.limit} items)` : ''}, seed {head.dataset.seed}
        {head.step !== undefined ? `, step ${head.step}` : ''}
      </p>
      <SummaryTable compared={compared} />
      <div class="plots">
        {curveNames.map((c) => (
          <CurveChart key={c} name={c} compared={compared} />
        ))}
      </div>
    </section>
  );
}

/** The evaluation page. */
export function Evaluation(props: { site: SiteSource; runId: string; with: string[] }) {
  const { site, runId } = props;
  const { run, error, following } = useRun(site, runId, { samples: false });
  const overlays = useRuns(site, props.with);
  const index = useRunIndex(site);
  const [armMeans, setArmMeans] = useState(false);
  const runs = useMemo(
    () =>
      run
        ? [run, ...props.with.map((id) => overlays.get(id)).filter((r): r is LoadedRun => !!r)]
        : [],
    [run, overlays, props.with],
  );
  const labels = runs.map((r) => runLabel(r, index));
  const styles = seriesStyles(
    runs.map((r, i) => {
      const ev =
        r.info?.command === 'eval'
          ? labels[i]!.replace(/^eval of /, '').replace(/ @ .*$/, '')
          : labels[i]!;
      return runs.length > 1 ? groupKey(ARM_BY_NAME, ev, undefined) : null;
    }),
  );
  const sections = (run ? run.evals.map((r) => r.name) : []).map((name) => ({
    name,
    compared: runs
      .map((r, i) => ({ r, i, report: r.evals.find((e) => e.name === name) }))
      .filter((x): x is { r: LoadedRun; i: number; report: EvalReport } => !!x.report)
      .map(({ r, i, report }) => ({
        run: r,
        label: labels[i]!,
        color: styles[i]!.color,
        dash: styles[i]!.dash,
        report,
        group: styles[i]!.group,
      })),
  }));
  const hasArms = sections.some((sec) =>
    sec.compared.some(
      (c, i) => c.group !== null && sec.compared.findIndex((x) => x.group === c.group) !== i,
    ),
  );
  const shownSections =
    armMeans && hasArms
      ? sections.map((sec) => ({ ...sec, compared: byArmMean(sec.compared) }))
      : sections;
  const missing: string[] = [];
  if (run && run.evals.length === 0) {
    missing.push(
      evalRunsOf(index, runId).length > 0
        ? 'No evaluation reports in this run folder: its checkpoints were evaluated in the eval runs linked above.'
        : 'No evaluation reports (eval/*.json) yet: run `atmanrl eval` on a checkpoint of this run.',
    );
  }
  const evaluated =
    run?.info?.command === 'eval' && typeof run.info.config.model === 'string'
      ? parseEvaluatedModel(
          run.info.config.model,
          index.map((s) => s.id),
        )
      : null;
  const candidates = index.filter((s) => s.id !== runId && s.info?.command === 'eval');
  const toggle = (id: string) => {
    const next = props.with.includes(id) ? props.with.filter((x) => x !== id) : [...props.with, id];
    window.location.hash = formatRoute({ page: 'eval', runId, with: next });
  };
  return (
    <main id="main">
      <RunHeader
        runId={runId}
        run={run}
        page="eval"
        following={following}
        {...(run?.info?.command === 'eval' ? { title: labels[0] ?? runId } : {})}
        subtitle={
          evaluated ? (
            <span class="evaluated">
              Evaluated{' '}
              {evaluated.runId ? (
                <a href={formatRoute({ page: 'overview', runId: evaluated.runId, with: [] })}>
                  {index.find((s) => s.id === evaluated.runId)?.info?.name ?? evaluated.runId}
                </a>
              ) : (
                <code>{evaluated.model}</code>
              )}
              {evaluated.checkpoint ? (
                <>
                  {' '}
                  at checkpoint <code>{evaluated.checkpoint}</code>
                </>
              ) : null}
            </span>
          ) : undefined
        }
      />
      {run?.info?.command !== 'eval' ? <EvaluatedIn site={site} runId={runId} /> : null}
      {error ? <p class="error">{error}</p> : null}
      {!run && !error ? <p>Loading…</p> : null}
      {run ? <Problems run={run} missing={missing} /> : null}
      {run && candidates.length > 0 ? (
        <details class="control overlay eval-pick" open={props.with.length > 0}>
          <summary>Compare with other eval runs ({props.with.length} selected)</summary>
          <div class="pick-list">
            {candidates.map((o) => (
              <label key={o.id}>
                <input
                  type="checkbox"
                  checked={props.with.includes(o.id)}
                  onChange={() => toggle(o.id)}
                />{' '}
                {runLabel(o, index)}
              </label>
            ))}
          </div>
        </details>
      ) : null}
      {hasArms ? (
        <label class="control">
          <input
            type="checkbox"
            checked={armMeans}
            onChange={(e) => setArmMeans((e.target as HTMLInputElement).checked)}
          />{' '}
          Mean per arm (over its seeds)
        </label>
      ) : null}
      {shownSections.map((s) => (
        <ReportSection key={s.name} name={s.name} compared={s.compared} />
      ))}
    </main>
  );
}
