// The pages' shared read of the run index (getRunIndex): one hook instead of an effect per page.
import type { RunSummary } from '@atmanrl/runs';
import { useEffect, useState } from 'preact/hooks';
import { getRunIndex } from './data/run-index.js';
import type { SiteSource } from './source.js';

/** Every run under the site's root; `[]` until listed (and when listing fails). */
export function useRunIndex(site: SiteSource): RunSummary[] {
  const [index, setIndex] = useState<RunSummary[]>([]);
  useEffect(() => {
    let cancelled = false;
    getRunIndex(site)
      .then((s) => {
        if (!cancelled) setIndex(s);
      })
      .catch(() => {
        if (!cancelled) setIndex([]);
      });
    return () => {
      cancelled = true;
    };
  }, [site]);
  return index;
}
