// The list of runs under the source root, read once per site and shared by the pages that need
// other runs' names (labels of eval runs, overlay pickers). Refresh clears it.
import {
  listRuns,
  RUN_FILES,
  type RunSource,
  type RunSummary,
  type SourceEntry,
} from '@atmanrl/runs';
import type { SiteSource } from '../source.js';

/**
 * Deepest folder level searched for run folders. The search stops descending at a folder with a
 * `run.json`, so this only bounds folders of folders: `experiments/<exp>/runs/<job>/<run>` is 4
 * levels below the served folder.
 */
export const RUN_SEARCH_DEPTH = 8;

/** Most folders listed while searching (a served home folder must not list the whole disk). */
export const RUN_SEARCH_FOLDERS = 4000;

/** Folder names never searched: a run's own sub-folders, model weights, tool folders. */
const SKIPPED = new Set<string>([RUN_FILES.checkpointsDir, RUN_FILES.evalDir, 'node_modules']);

const cache = new WeakMap<SiteSource, Promise<RunSummary[]>>();

/** Every run under the root (folders with a run.json, at any depth up to the bounds above). */
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
 * folders of each level in parallel. Only folders the source lists as folders are entered: the
 * viewer server and `fsRunSource` list symlinks as neither files nor folders, so the search never
 * follows a link out of the served folder. `budget.left` bounds the folders listed in all.
 */
async function runHolders(
  source: RunSource,
  dir: string,
  entries: readonly SourceEntry[],
  depth: number,
  budget: { left: number },
): Promise<string[]> {
  const dirs = entries.filter(
    (e) => e.type === 'directory' && !SKIPPED.has(e.name) && !e.name.startsWith('.'),
  );
  const found = await Promise.all(
    dirs.map(async (e) => {
      if (budget.left <= 0) return { run: false, holders: [] };
      budget.left--;
      const id = dir === '' ? e.name : `${dir}/${e.name}`;
      const inner = await source.list(id);
      if (inner.some((x) => x.name === RUN_FILES.run)) return { run: true, holders: [] };
      // A folder with model weights is not a folder of runs.
      if (inner.some((x) => x.name.endsWith('.safetensors'))) return { run: false, holders: [] };
      return {
        run: false,
        holders: depth > 1 ? await runHolders(source, id, inner, depth - 1, budget) : [],
      };
    }),
  );
  const own = found.some((f) => f.run) ? [dir] : [];
  return [...own, ...found.flatMap((f) => f.holders)];
}

/**
 * The same runs as `listRuns(source, '', depth)` of `@atmanrl/runs`, but with the folders of
 * each level listed in parallel and each folder holding runs read by `listRuns(holder, 1)` in
 * parallel (an experiment's `runs/<job>/<run>` layout: 25 job folders in one round trip instead
 * of 25 sequential ones), and at most `maxFolders` folders listed. Newest first.
 */
export async function listRunsParallel(
  source: RunSource,
  depth: number,
  maxFolders = RUN_SEARCH_FOLDERS,
): Promise<RunSummary[]> {
  const holders = await runHolders(source, '', await source.list(''), depth, {
    left: maxFolders,
  });
  const lists = await Promise.all(holders.map((h) => listRuns(source, h, 1)));
  return lists
    .flat()
    .sort((a, b) => (b.info?.createdAt ?? '').localeCompare(a.info?.createdAt ?? ''));
}
