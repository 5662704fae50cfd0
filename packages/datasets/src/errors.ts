// Typed errors of @atmanrl/datasets: one class with a stable `code`, plus file/line for bad input data.

/** Stable machine-readable error codes thrown by this package. */
export type DatasetErrorCode =
  | 'BAD_RECORD' // a malformed JSONL line, CSV row or parquet row
  | 'NOT_FOUND' // a file, split or subject that does not exist
  | 'INVALID_ARGUMENT' // an option out of range or of the wrong kind
  | 'DOWNLOAD_FAILED' // HTTP error, network error or truncated body
  | 'SIZE_MISMATCH' // downloaded bytes differ from the manifest's size
  | 'HASH_MISMATCH' // downloaded bytes differ from the manifest's sha256
  | 'UNKNOWN_DATASET'; // a name not in the manifest

/** Where a bad record sits: the file and the 1-based line (or row) number. */
export interface DataLocation {
  file: string;
  line?: number;
}

/**
 * The only error class this package throws. `code` is stable across versions; `file`/`line`
 * name the offending input when the error is about data, `option` the option key (e.g. a
 * `TaskOptions` key such as `'fewShot'`) when it is about an option.
 */
export class DatasetError extends Error {
  readonly code: DatasetErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** The option the error concerns (its key in the options record), when it concerns one. */
  readonly option: string | undefined;

  constructor(
    code: DatasetErrorCode,
    message: string,
    options: { location?: DataLocation; cause?: unknown; option?: string } = {},
  ) {
    const where = options.location
      ? `${options.location.file}${options.location.line === undefined ? '' : `:${options.location.line}`}: `
      : '';
    super(where + message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DatasetError';
    this.code = code;
    this.file = options.location?.file;
    this.line = options.location?.line;
    this.option = options.option;
  }
}
