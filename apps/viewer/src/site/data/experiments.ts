// Experiment folders: a folder with the `results.json` (or `REPORT.md`) that `atmanrl experiment`
// writes. The served root may be one (its home page is the experiment) or hold several (its home
// page lists them).
import type { SiteSource } from '../source.js';

/** An experiment folder under the root. */
export interface ExperimentEntry {
  /** Folder relative to the root (`''` for the root itself). */
  dir: string;
  title: string;
  description: string;
  hasResults: boolean;
}

/** Bytes of REPORT.md read for its title and first paragraph. */
const REPORT_HEAD_BYTES = 8 * 1024;

/** `dir/name`, or `name` at the root. */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The experiment's title and description from REPORT.md's first heading and paragraph. */
export function reportHeading(md: string): { title: string; description: string } {
  const lines = md.split('\n');
  const h = lines.findIndex((l) => l.startsWith('# '));
  if (h < 0) return { title: 'Experiment', description: '' };
  const title = lines[h]!.slice(2).replace(/`/g, '').trim();
  let description = '';
  for (let i = h + 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l.startsWith('#')) break;
    if (l !== '') {
      description = l;
      break;
    }
  }
  return { title, description };
}

/** The experiment in `dir`, or `null` when the folder is not one. */
export async function readExperiment(
  site: SiteSource,
  dir: string,
): Promise<ExperimentEntry | null> {
  const names = new Set((await site.source.list(dir)).map((e) => e.name));
  const hasResults = names.has('results.json');
  if (!hasResults && !names.has('REPORT.md')) return null;
  const head = names.has('REPORT.md')
    ? await site.readHead(joinPath(dir, 'REPORT.md'), REPORT_HEAD_BYTES)
    : null;
  const h = head ? reportHeading(head) : { title: dir || 'Experiment', description: '' };
  return { dir, title: h.title, description: h.description, hasResults };
}

/** The experiment folders directly under the root, by folder name. */
export async function listExperiments(site: SiteSource): Promise<ExperimentEntry[]> {
  const dirs = (await site.source.list('')).filter(
    (e) => e.type === 'directory' && !e.name.startsWith('.'),
  );
  const found = await Promise.all(dirs.map((d) => readExperiment(site, d.name)));
  return found
    .filter((e): e is ExperimentEntry => e !== null)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}
