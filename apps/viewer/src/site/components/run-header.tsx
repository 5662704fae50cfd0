// The header of a run's pages: name, status, progress, and the tabs between its pages.
import type { LoadedRun } from '@atmanrl/runs';
import { formatRoute } from '../data/route.js';

/** Run pages reachable from the tabs. */
export type RunPage = 'overview' | 'rollouts' | 'eval';

/** Heading + status + tab links of one run. */
export function RunHeader(props: {
  runId: string;
  run: LoadedRun | null;
  page: RunPage;
  following: boolean;
}) {
  const { runId, run, page } = props;
  const info = run?.info ?? null;
  const tabs: { page: RunPage; label: string; href: string }[] = [
    {
      page: 'overview',
      label: 'Overview',
      href: formatRoute({ page: 'overview', runId, with: [] }),
    },
    {
      page: 'rollouts',
      label: 'Rollouts',
      href: formatRoute({
        page: 'rollouts',
        runId,
        step: null,
        prompt: null,
        compare: null,
        granularity: 'token',
      }),
    },
    { page: 'eval', label: 'Evaluation', href: formatRoute({ page: 'eval', runId }) },
  ];
  const lastStep = run && run.metrics.length > 0 ? run.metrics[run.metrics.length - 1]!.step : 0;
  return (
    <header class="run-header">
      <h1 tabIndex={-1} id="page-title">
        {info?.name ?? runId}
      </h1>
      <p class="run-meta">
        <span class={`status status-${info?.status ?? 'unknown'}`}>
          {info?.status ?? 'no run.json'}
        </span>{' '}
        <span>
          step {lastStep}
          {info?.totalSteps ? ` / ${info.totalSteps}` : ''}
        </span>{' '}
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
