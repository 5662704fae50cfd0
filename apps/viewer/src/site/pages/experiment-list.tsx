// The experiments of a folder of experiments (`atmanrl view experiments`): each sub-folder with a
// results.json or REPORT.md, with its title and first paragraph, linked to its page.
import { useEffect, useState } from 'preact/hooks';
import { type ExperimentEntry, listExperiments } from '../data/experiments.js';
import { formatRoute } from '../data/route.js';
import type { SiteSource } from '../source.js';

/** The list (renders nothing when the root holds no experiment folders). */
export function ExperimentList(props: { site: SiteSource }) {
  const { site } = props;
  const [list, setList] = useState<ExperimentEntry[]>([]);
  useEffect(() => {
    let cancelled = false;
    listExperiments(site)
      .then((l) => {
        if (!cancelled) setList(l);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [site]);
  if (list.length === 0) return null;
  return (
    <section class="experiment-list" aria-labelledby="experiments-title">
      <h2 id="experiments-title">Experiments ({list.length})</h2>
      <ul>
        {list.map((e) => (
          <li key={e.dir} data-experiment={e.dir}>
            <a href={formatRoute({ page: 'runs', dir: e.dir })}>{e.title}</a>{' '}
            <span class="run-id">{e.dir}/</span>
            {e.description ? <p class="experiment-description">{e.description}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
