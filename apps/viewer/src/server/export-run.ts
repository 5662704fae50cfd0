// Static export of one run: a folder that opens without a server. The site's JS and CSS are
// inlined into index.html and the run data is embedded in data.js (a global), because browsers
// block module scripts and fetch() on file://. The raw run files and index.json listings are
// written too, for static servers and for reading with `httpRunSource(base, { listing: 'index-json' })`.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { resolveInside } from '@atmanrl/runs/node';
import { ViewerError } from '../errors.js';
import { EXPORT_GLOBAL, type ExportData } from './export-data.js';
import { RUNS_PREFIX } from './serve.js';
import { defaultStaticDir } from './site-dir.js';

/** Options of {@link exportRun}. */
export interface ExportRunOptions {
  /** Folder holding the runs. */
  runsDir: string;
  /** Folder name of the run to export (may contain `/` for nested runs). */
  runId: string;
  /** Destination; created. Must be empty or missing unless `overwrite`. */
  outDir: string;
  /** Folder of the built site; default the `dist/site` shipped with this package. */
  staticDir?: string;
  /** Write into a non-empty `outDir` (files with the same names are replaced). Default false. */
  overwrite?: boolean;
}

/** What {@link exportRun} wrote. */
export interface ExportRunResult {
  /** Absolute path of the export folder. */
  outDir: string;
  /** Absolute path of the page to open (`file://` works). */
  indexHtml: string;
  /** Every file written, relative to `outDir`. */
  files: string[];
  /** Total bytes written. */
  bytes: number;
}

type Entry = { name: string; type: 'file' | 'directory' };

/** Run files worth exporting: everything but checkpoint weights and hidden temp files. */
async function collectRunFiles(runDir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const dirents = await readdir(join(runDir, rel), { withFileTypes: true });
  for (const d of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
    if (d.name.startsWith('.')) continue;
    const path = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) {
      if (rel === 'checkpoints') continue; // checkpoints/step-N: model weights, not viewer data
      out.push(...(await collectRunFiles(runDir, path)));
    } else if (d.isFile()) {
      out.push(path);
    }
  }
  return out;
}

/** Inlines the built site's module script and stylesheet so index.html needs no fetches. */
export async function inlineSite(staticDir: string, dataScript: string): Promise<string> {
  let html = await readFile(join(staticDir, 'index.html'), 'utf8');
  const asset = async (href: string) => {
    const abs = resolveInside(staticDir, href.replace(/^\.\//, ''));
    if (abs === null) throw new ViewerError('SITE_NOT_BUILT', `bad asset path ${href}`);
    return readFile(abs, 'utf8');
  };
  for (const m of [...html.matchAll(/<link rel="stylesheet"[^>]*href="([^"]+)"[^>]*>/g)]) {
    const css = (await asset(m[1]!)).replace(/<\/style/gi, '<\\/style');
    html = html.replace(m[0], () => `<style>${css}</style>`);
  }
  const scripts = [...html.matchAll(/<script type="module"[^>]*src="([^"]+)"[^>]*><\/script>/g)];
  if (scripts.length === 0) {
    throw new ViewerError('SITE_NOT_BUILT', `${staticDir}/index.html has no module script`);
  }
  for (const m of scripts) {
    // `</script` can only occur inside string/regex literals, where `<\/script` means the same.
    const js = (await asset(m[1]!)).replace(/<\/script/gi, '<\\/script');
    html = html.replace(
      m[0],
      () => `<script src="${dataScript}"></script>\n<script type="module">${js}</script>`,
    );
  }
  return html;
}

/**
 * Writes a self-contained static bundle of one run to `outDir`: `index.html` (site inlined),
 * `data.js` (the run embedded), and `runs/<runId>/…` with `index.json` listings. Open
 * `index.html` directly (file://) or serve the folder with any static server. Checkpoint
 * weights are left out (only `checkpoints/latest.json` is kept).
 */
export async function exportRun(options: ExportRunOptions): Promise<ExportRunResult> {
  const runsDir = resolve(options.runsDir);
  const runId = options.runId.replace(/^\/+|\/+$/g, '');
  const runDir = resolveInside(runsDir, runId);
  if (runId === '' || runDir === null || !existsSync(join(runDir, 'run.json'))) {
    throw new ViewerError(
      'RUN_NOT_FOUND',
      `no run "${options.runId}" in ${runsDir} (expected ${join(runsDir, options.runId, 'run.json')}); pass the run's folder name`,
    );
  }
  const outDir = resolve(options.outDir);
  if (existsSync(outDir) && !options.overwrite) {
    if ((await readdir(outDir)).length > 0) {
      throw new ViewerError(
        'OUT_DIR_NOT_EMPTY',
        `${outDir} is not empty; choose a new folder or pass overwrite: true`,
      );
    }
  }
  const staticDir = resolve(options.staticDir ?? defaultStaticDir());

  const runFiles = await collectRunFiles(runDir);
  const data: ExportData = { version: 1, runId, files: {}, dirs: {} };
  const addEntry = (dir: string, entry: Entry) => {
    const list = data.dirs[dir] ?? [];
    data.dirs[dir] = list;
    if (!list.some((e) => e.name === entry.name)) list.push(entry);
  };
  // Ancestors of the run folder (nested ids) and the run's own sub-folders get listings.
  const idParts = runId.split('/');
  idParts.forEach((name, i) => {
    addEntry(idParts.slice(0, i).join('/'), { name, type: 'directory' });
  });
  data.dirs[runId] ??= [];
  for (const rel of runFiles) {
    const parts = rel.split('/');
    parts.forEach((name, i) => {
      const parent = [runId, ...parts.slice(0, i)].join('/');
      addEntry(parent, { name, type: i === parts.length - 1 ? 'file' : 'directory' });
    });
    data.files[`${runId}/${rel}`] = await readFile(join(runDir, rel), 'utf8');
  }
  for (const list of Object.values(data.dirs)) list.sort((a, b) => a.name.localeCompare(b.name));
  data.dirs[`${runId}/eval`] ??= [];
  data.dirs[`${runId}/checkpoints`] ??= [];

  const written: string[] = [];
  let bytes = 0;
  const write = async (rel: string, content: string) => {
    const abs = join(outDir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
    written.push(rel);
    bytes += Buffer.byteLength(content);
  };
  for (const [path, text] of Object.entries(data.files))
    await write(`${RUNS_PREFIX}/${path}`, text);
  for (const [dir, entries] of Object.entries(data.dirs)) {
    const rel = dir === '' ? `${RUNS_PREFIX}/index.json` : `${RUNS_PREFIX}/${dir}/index.json`;
    await write(rel, `${JSON.stringify({ entries }, null, 2)}\n`);
  }
  await write('data.js', `window.${EXPORT_GLOBAL} = ${JSON.stringify(data)};\n`);
  await write('index.html', await inlineSite(staticDir, './data.js'));
  const st = await stat(join(outDir, 'index.html'));
  if (!st.isFile()) throw new ViewerError('SITE_NOT_BUILT', 'index.html was not written');
  return { outDir, indexHtml: join(outDir, 'index.html'), files: written.sort(), bytes };
}
