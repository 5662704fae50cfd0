// Aggregate saliency: per logged step, over every CoT token of the step's logged rollouts, the
// distribution of relevance, the share of tokens the answer needs (relevance > 0), and the mean
// relevance by token kind and by relative position in the CoT; per run, other runs overlaid, or
// per arm (mean over seeds with the seeds' min–max band).
import type { LoadedRun } from '@atmanrl/runs';
import { useMemo, useState } from 'preact/hooks';
import { Problems } from '../components/problems.js';
import { EvaluatedIn } from '../components/related-runs.js';
import { RunHeader } from '../components/run-header.js';
import { ARM_BY_NAME, groupKey, seriesStyles } from '../data/groups.js';
import { formatRoute } from '../data/route.js';
import { POSITION_BINS, SALIENCY_AGG, saliencyRecords } from '../data/saliency-agg.js';
import type { SiteSource } from '../source.js';
import { useRun, useRuns } from '../use-run.js';
import { useRunIndex } from '../use-run-index.js';
import { MetricChart, RunsLegend, type StyledRun } from './run-overview.js';

const SECTIONS: { title: string; names: string[]; note: string }[] = [
  {
    title: 'Distribution',
    names: [
      SALIENCY_AGG.share,
      SALIENCY_AGG.p10,
      SALIENCY_AGG.p50,
      SALIENCY_AGG.p90,
      SALIENCY_AGG.mean,
    ],
    note: 'Relevance of every CoT token of the step: the share above 0 (tokens the answer needs), its quantiles and mean.',
  },
  {
    title: 'By token kind',
    names: (['digits', 'operators', 'words'] as const).map((k) => SALIENCY_AGG.kind(k)),
    note: 'Mean relevance of the CoT tokens that are digits, arithmetic operators (+ − × ÷ = …) or words.',
  },
  {
    title: 'By position in the CoT',
    names: Array.from({ length: POSITION_BINS }, (_, b) => SALIENCY_AGG.position(b)),
    note: 'Mean relevance of the CoT tokens in each fifth of their CoT (first fifth to last).',
  },
];

/** The saliency page of a run (other runs overlaid with `with`). */
export function SaliencyPage(props: { site: SiteSource; runId: string; with: string[] }) {
  const { site, runId } = props;
  const { run, error, following } = useRun(site, runId);
  const overlays = useRuns(site, props.with, { samples: true });
  const [armMeans, setArmMeans] = useState(false);
  const index = useRunIndex(site);
  const others = index.filter((r) => r.id !== runId && r.info?.command !== 'eval');
  const runs = useMemo((): StyledRun[] => {
    const loaded = run
      ? [run, ...props.with.map((id) => overlays.get(id)).filter((r): r is LoadedRun => !!r)]
      : [];
    const labels = loaded.map((r) => r.info?.name ?? r.id);
    const styles = seriesStyles(
      labels.map((l) => (loaded.length > 1 ? groupKey(ARM_BY_NAME, l, undefined) : null)),
    );
    // The aggregates as metric records: the overview's charts (and arm means) draw them.
    return loaded.map((r, i) => ({
      run: { ...r, metrics: saliencyRecords(r.samples) },
      label: labels[i]!,
      style: styles[i]!,
    }));
  }, [run, overlays, props.with]);
  const hasArms = runs.some(
    (r, i) =>
      r.style.group !== null && runs.findIndex((x) => x.style.group === r.style.group) !== i,
  );
  const missing: string[] = [];
  if (run && runs[0]?.run.metrics.length === 0)
    missing.push('No logged rollouts with token relevance (samples.jsonl has no CoT tokens).');
  const toggleOverlay = (id: string) => {
    const next = props.with.includes(id) ? props.with.filter((x) => x !== id) : [...props.with, id];
    window.location.hash = formatRoute({ page: 'saliency', runId, with: next });
  };
  return (
    <main id="main">
      <RunHeader runId={runId} run={run} page="saliency" following={following} />
      <EvaluatedIn site={site} runId={runId} />
      {error ? <p class="error">{error}</p> : null}
      {!run && !error ? <p>Loading rollouts…</p> : null}
      {run ? <Problems run={run} missing={missing} /> : null}
      <p class="hint">
        Aggregated over the CoT tokens of the rollouts logged at each step (samples.jsonl).
        Relevance (min(θ,0) − c)/|c|: above 0, the answer needs the token.
      </p>
      {run ? (
        <div class="controls">
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
          {others.length > 0 ? (
            <details class="control overlay">
              <summary>Overlay runs ({props.with.length})</summary>
              <div class="pick-list">
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
              </div>
            </details>
          ) : null}
        </div>
      ) : null}
      {runs.length > 1 ? <RunsLegend runs={runs} /> : null}
      {runs.length > 0 && (runs[0]?.run.metrics.length ?? 0) > 0
        ? SECTIONS.map((section) => (
            <section
              key={section.title}
              class="metric-section"
              aria-labelledby={`sal-${section.title}`}
            >
              <h2 id={`sal-${section.title}`}>{section.title}</h2>
              <p class="hint">{section.note}</p>
              <div class="plots">
                {section.names.map((name) => (
                  <MetricChart
                    key={name}
                    name={name}
                    runs={runs}
                    smoothing={0}
                    armMeans={armMeans}
                    syncKey={`saliency:${runId}`}
                  />
                ))}
              </div>
            </section>
          ))
        : null}
    </main>
  );
}
