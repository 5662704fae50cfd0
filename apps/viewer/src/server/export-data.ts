// The data format a static export embeds in `data.js` (a classic script, so it loads from
// file:// where fetch() is blocked) and that the site reads through an in-memory RunSource.

/** Global variable `data.js` assigns. */
export const EXPORT_GLOBAL = '__ATMANRL_EXPORT__';

/** Contents of `data.js`: every exported file as text and every folder's listing. */
export interface ExportData {
  version: 1;
  /** The exported run's id (its folder name). */
  runId: string;
  /** File text by path relative to the runs root, e.g. `my-run/metrics.jsonl`. */
  files: Record<string, string>;
  /** Folder listings by path relative to the runs root (`''` = the root). */
  dirs: Record<string, { name: string; type: 'file' | 'directory' }[]>;
}
