// The site shell: hash router, top bar, and the four pages.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { parseRoute, type Route } from './data/route.js';
import { Evaluation } from './pages/evaluation.js';
import { Rollouts } from './pages/rollouts.js';
import { RunOverview } from './pages/run-overview.js';
import { RunsList } from './pages/runs-list.js';
import { SaliencyPage } from './pages/saliency.js';
import { createSiteSource } from './source.js';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function routeKey(route: Route): string {
  return route.page === 'runs' ? `runs:${route.dir ?? ''}` : `${route.page}:${route.runId}`;
}

/** The viewer application. */
export function App() {
  const site = useMemo(() => createSiteSource(), []);
  const route = useRoute();
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  const key = routeKey(route);
  useEffect(() => {
    const t = setTimeout(
      () => document.getElementById('page-title')?.focus({ preventScroll: true }),
      0,
    );
    return () => clearTimeout(t);
  }, [key]);
  useEffect(() => {
    document.title =
      route.page === 'runs'
        ? route.dir
          ? `${route.dir} · AtManRL`
          : 'AtManRL runs'
        : `${route.runId} · ${route.page} · AtManRL`;
  }, [route]);
  return (
    <>
      <button
        type="button"
        class="skip-link"
        onClick={() => document.getElementById('page-title')?.focus()}
      >
        Skip to content
      </button>
      <nav class="topbar" aria-label="Site">
        <a href="#/" class="brand">
          AtManRL viewer
        </a>
        {route.page !== 'runs' || route.dir ? (
          <a href="#/" class="crumb">
            All runs
          </a>
        ) : null}
        {site.exportedRunId ? (
          <span class="export-note">static export of {site.exportedRunId}</span>
        ) : null}
      </nav>
      {route.page === 'runs' ? (
        <RunsList key={route.dir ?? ''} site={site} {...(route.dir ? { dir: route.dir } : {})} />
      ) : null}
      {route.page === 'overview' ? (
        <RunOverview key={route.runId} site={site} runId={route.runId} with={route.with} />
      ) : null}
      {route.page === 'rollouts' ? <Rollouts key={route.runId} site={site} route={route} /> : null}
      {route.page === 'saliency' ? (
        <SaliencyPage key={route.runId} site={site} runId={route.runId} with={route.with} />
      ) : null}
      {route.page === 'eval' ? (
        <Evaluation key={route.runId} site={site} runId={route.runId} with={route.with} />
      ) : null}
    </>
  );
}
