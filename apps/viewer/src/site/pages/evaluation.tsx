// Evaluation: every eval/*.json report of a run, its summary numbers and its curves
// (early answering, adding mistakes, deletion/insertion) with the random baseline and AOC/AUC.
import type { EvalReport } from '@atmanrl/runs';
import { useMemo } from 'preact/hooks';
import { Plot } from '../components/plot.js';
import { Problems } from '../components/problems.js';
import { RunHeader } from '../components/run-header.js';
import { countPoints, evalCurveData } from '../data/curves.js';
import type { SiteSource } from '../source.js';
import { useRun } from '../use-run.js';

const CURVE = { color: '#0072B2', width: 2, points: true };
const BASELINE = { color: '#777777', width: 1.5, dash: [6, 4], points: true };

function Report(props: { report: EvalReport }) {
  const { report } = props;
  const curves = useMemo(
    () =>
      report.curves.map((c) => {
        const plot = evalCurveData(c);
        const series = plot.hasBaseline
          ? [
              { label: c.name, ...CURVE },
              { label: 'random baseline', ...BASELINE },
            ]
          : [{ label: c.name, ...CURVE }];
        const points = [countPoints(c.y), ...(c.baseline ? [countPoints(c.baseline.y)] : [])];
        return { curve: c, plot, series, points };
      }),
    [report],
  );
  return (
    <section class="eval-report" aria-labelledby={`eval-${report.name}`}>
      <h2 id={`eval-${report.name}`}>{report.name}</h2>
      <p class="run-meta">
        {report.model} on {report.dataset.name}/{report.dataset.split}
        {report.dataset.limit ? ` (${report.dataset.limit} items)` : ''}, seed {report.dataset.seed}
        {report.step !== undefined ? `, step ${report.step}` : ''}
      </p>
      <table class="summary">
        <tbody>
          {Object.entries(report.summary).map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td class="num">{v === null ? '—' : v.toFixed(4)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="plots">
        {curves.map(({ curve, plot, series, points }) => (
          <Plot
            key={curve.name}
            title={curve.name}
            caption={plot.areaLabel}
            data={plot.data}
            xLabel={curve.xLabel}
            yLabel={curve.yLabel}
            series={series}
            points={points}
            attrs={{ 'data-curve': curve.name }}
          />
        ))}
      </div>
    </section>
  );
}

/** The evaluation page. */
export function Evaluation(props: { site: SiteSource; runId: string }) {
  const { site, runId } = props;
  const { run, error, following } = useRun(site, runId, { samples: false });
  const missing: string[] = [];
  if (run && run.evals.length === 0) {
    missing.push(
      'No evaluation reports (eval/*.json) yet: run `atmanrl eval` on a checkpoint of this run.',
    );
  }
  return (
    <main id="main">
      <RunHeader runId={runId} run={run} page="eval" following={following} />
      {error ? <p class="error">{error}</p> : null}
      {!run && !error ? <p>Loading…</p> : null}
      {run ? <Problems run={run} missing={missing} /> : null}
      {run?.evals.map((r) => (
        <Report key={r.name} report={r} />
      ))}
    </main>
  );
}
