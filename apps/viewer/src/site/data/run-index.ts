// The list of runs under the source root, read once per site and shared by the pages that need
// other runs' names (labels of eval runs, overlay pickers). Refresh clears it.
import { listRuns, RUN_FILES, type RunSource, type RunSummary } from '@atmanrl/runs';
import type { SiteSource } from '../source.js';

/** Depth searched for run folders: `<job>/<run>` of an experiment's `runs/`, from its parent. */
export const RUN_SEARCH_DEPTH = 3;

const cache = new WeakMap<SiteSource, Promise<RunSummary[]>>();

/** Every run under the root (folders with a run.json, up to {@link RUN_SEARCH_DEPTH} deep). */
export function getRunIndex(site: SiteSource): Promise<RunSummary[]> {
  let p = cache.get(site);
  if (!p) {
    p = listRunsParallel(site.source, RUN_SEARCH_DEPTH);
    p.catch(() => cache.delete(site));
    cache.set(site, p);
  }
  return p;
}

/** Forgets the cached run list (the runs list's Refresh button). */
export function clearRunIndex(site: SiteSource): void {
  cache.delete(site);
}

/**
 * The folders under `dir` (down to `depth` levels) that hold run folders, found by listing the
 * folders of each level in parallel.
 */
async function runHolders(source: RunSource, dir: string, depth: number): Promise<string[]> {
  const dirs = (await source.list(dir)).filter(
    (e) =>
      e.type === 'directory' && e.name !== RUN_FILES.checkpointsDir && e.name !== RUN_FILES.evalDir,
  );
  const found = await Promise.all(
    dirs.map(async (e) => {
      const id = dir === '' ? e.name : `${dir}/${e.name}`;
      const inner = await source.list(id);
      if (inner.some((x) => x.name === RUN_FILES.run)) return { run: true, holders: [] };
      return { run: false, holders: depth > 1 ? await runHolders(source, id, depth - 1) : [] };
    }),
  );
  const own = found.some((f) => f.run) ? [dir] : [];
  return [...own, ...found.flatMap((f) => f.holders)];
}

/**
 * The same runs as `listRuns(source, '', depth)` of `@atmanrl/runs`, but with the folders of
 * each level listed in parallel and each folder holding runs read by `listRuns(holder, 1)` in
 * parallel (an experiment's `runs/<job>/<run>` layout: 25 job folders in one round trip instead
 * of 25 sequential ones). Newest first.
 */
export async function listRunsParallel(source: RunSource, depth: number): Promise<RunSummary[]> {
  const holders = await runHolders(source, '', depth);
  const lists = await Promise.all(holders.map((h) => listRuns(source, h, 1)));
  return lists
    .flat()
    .sort((a, b) => (b.info?.createdAt ?? '').localeCompare(a.info?.createdAt ?? ''));
}
