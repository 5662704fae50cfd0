// Links from a training run to the eval runs of its checkpoints (each a run of its own).
import { formatRoute } from '../data/route.js';
import { evalRunsOf } from '../data/run-rows.js';
import type { SiteSource } from '../source.js';
import { useRunIndex } from '../use-run-index.js';

/** "Evaluated in: step-12 · step-24" (renders nothing when no eval run evaluated this run). */
export function EvaluatedIn(props: { site: SiteSource; runId: string }) {
  const index = useRunIndex(props.site);
  const evals = evalRunsOf(index, props.runId);
  if (evals.length === 0) return null;
  return (
    <p class="related-runs">
      Evaluated in:{' '}
      {evals.map((e, i) => (
        <span key={e.id}>
          {i > 0 ? ' · ' : null}
          <a href={formatRoute({ page: 'eval', runId: e.id, with: [] })} data-eval-run={e.id}>
            {e.checkpoint ?? e.id}
          </a>
        </span>
      ))}
    </p>
  );
}
