// @atmanrl/viewer (Node entry): the server behind `atmanrl view` and the static run export.
// The browser site itself is built by Vite into dist/site and is not importable.
export { ViewerError, type ViewerErrorCode } from '../errors.js';
export { EXPORT_GLOBAL, type ExportData } from './export-data.js';
export { type ExportRunOptions, type ExportRunResult, exportRun } from './export-run.js';
export type { Logger } from './logger.js';
export {
  RUNS_PREFIX,
  runUrl,
  startViewerServer,
  type ViewerServer,
  type ViewerServerOptions,
} from './serve.js';
export { defaultStaticDir } from './site-dir.js';
