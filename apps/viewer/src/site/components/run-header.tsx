// The header of a run's pages: name, status, progress, and the tabs between its pages.
import type { LoadedRun } from '@atmanrl/runs';
import type { ComponentChildren } from 'preact';
import { formatRoute, rolloutsRoute } from '../data/route.js';

/** Run pages reachable from the tabs. */
export type RunPage = 'overview' | 'rollouts' | 'saliency' | 'eval';

/** Heading + status + tab links of one run. */
export function RunHeader(props: {
  runId: string;
  run: LoadedRun | null;
  page: RunPage;
  following: boolean;
  /** Heading instead of the run name (e.g. an eval run's `eval of … @ step-24`). */
  title?: string;
  /** Extra line under the heading (e.g. a link to the evaluated run). */
  subtitle?: ComponentChildren;
}) {
  const { runId, run, page } = props;
  const info = run?.info ?? null;
  const stale = (run as { stale?: boolean | null } | null)?.stale === true;
  const all: { page: RunPage; label: string; href: string }[] = [
    {
      page: 'overview',
      label: 'Overview',
      href: formatRoute({ page: 'overview', runId, with: [] }),
    },
    { page: 'rollouts', label: 'Rollouts', href: formatRoute(rolloutsRoute(runId)) },
    {
      page: 'saliency',
      label: 'Saliency',
      href: formatRoute({ page: 'saliency', runId, with: [] }),
    },
    { page: 'eval', label: 'Evaluation', href: formatRoute({ page: 'eval', runId, with: [] }) },
  ];
  // An eval run is its evaluation: it has no curves or rollouts of its own.
  const isEval = info?.command === 'eval' && (run?.metrics.length ?? 0) === 0;
  const tabs = isEval ? all.filter((t) => t.page === 'eval' || t.page === page) : all;
  const lastStep = run && run.metrics.length > 0 ? run.metrics[run.metrics.length - 1]!.step : 0;
  return (
    <header class="run-header">
      <h1 tabIndex={-1} id="page-title">
        {props.title ?? info?.name ?? runId}
      </h1>
      {props.subtitle ? <p class="run-subtitle">{props.subtitle}</p> : null}
      <p class="run-meta">
        <span class={`status status-${stale ? 'stale' : (info?.status ?? 'unknown')}`}>
          {stale ? 'stale (writer gone)' : (info?.status ?? 'no run.json')}
        </span>{' '}
        {isEval ? null : (
          <span>
            step {lastStep}
            {info?.totalSteps ? ` / ${info.totalSteps}` : ''}
          </span>
        )}{' '}
        {info ? <span>· {info.command}</span> : null} <code class="run-id">{runId}</code>
        {props.following ? (
          <span class="live" title="new lines are picked up every 2 s">
            {' '}
            · live
          </span>
        ) : null}
      </p>
      <nav aria-label="Run pages" class="tabs">
        {tabs.map((t) => (
          <a
            key={t.page}
            href={t.href}
            class="tab"
            aria-current={t.page === page ? 'page' : undefined}
          >
            {t.label}
          </a>
        ))}
      </nav>
    </header>
  );
}
