// Typed errors of the viewer's Node half (server and static export). Every error has a stable `code`.

/** Stable error codes thrown by `@atmanrl/viewer`. */
export type ViewerErrorCode =
  | 'RUNS_DIR_NOT_FOUND'
  | 'RUN_NOT_FOUND'
  | 'SITE_NOT_BUILT'
  | 'INVALID_OPTION'
  | 'OUT_DIR_NOT_EMPTY';

/** Error thrown by `startViewerServer` / `exportRun`; the message says how to fix it. */
export class ViewerError extends Error {
  /** Stable machine-readable code. */
  readonly code: ViewerErrorCode;

  constructor(code: ViewerErrorCode, message: string) {
    super(message);
    this.name = 'ViewerError';
    this.code = code;
  }
}
