// Typed errors of the CLI. A UsageError is the user's to fix (exit 1, message + usage); anything
// else is an internal error (exit 2). `toUserError` classifies the packages' typed errors and the
// system errors that are about the user's files, disk or ports, so they exit 1 too.

/** Stable codes of user-facing CLI errors. */
export type TrainerErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_FLAG'
  | 'UNKNOWN_COMMAND'
  | 'MODEL_NOT_FOUND'
  | 'BAD_MODEL'
  | 'NO_CHAT_TEMPLATE'
  | 'DATA_NOT_FOUND'
  | 'BAD_DATA'
  | 'RESUME_FAILED'
  | 'RESUME_CONFLICT'
  | 'RUN_LOCKED'
  | 'BAD_RUN'
  | 'OUTPUT_EXISTS'
  | 'IO_ERROR'
  | 'PORT_IN_USE'
  | 'NON_FINITE'
  | 'NON_FINITE_LOSS'
  | 'QUEUE';

/** An error the user can fix; printed as one paragraph, exit code 1, no stack trace. */
export class UsageError extends Error {
  /** Stable machine-readable code. */
  readonly code: TrainerErrorCode;
  /** The flag the error concerns (e.g. `'--few-shot'`), when it concerns one. */
  readonly flag: string | undefined;
  constructor(
    code: TrainerErrorCode,
    message: string,
    options: { cause?: unknown; flag?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UsageError';
    this.code = code;
    this.flag = options.flag;
  }
}

type Tagged = { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };

/** System error codes that describe the user's environment (disk, permissions, paths, ports). */
const SYSTEM_HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space (or pass --runs-dir on another disk) and retry',
  EDQUOT: 'the disk quota is exceeded: free space and retry',
  EROFS: 'the file system is read-only: write somewhere else',
  EACCES: 'permission denied: check the folder is yours and writable',
  EPERM: 'operation not permitted: check the folder is yours and writable',
  ENOTDIR: 'a path component is a file, not a folder: check --runs-dir / --out',
  EISDIR: 'a folder is where a file is expected: check the path',
  EEXIST: 'a file of that name is in the way: check --runs-dir / --out name a folder',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and retry',
  EADDRINUSE: 'the port is in use: pass --port <another> (or --port 0 for any free port)',
  EADDRNOTAVAIL: 'the address is not available on this machine',
};

/** The first system error code (`ENOSPC`, ...) in the error's cause chain, if any. */
function systemCode(e: unknown): string | null {
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as Tagged).code;
    if (typeof code === 'string' && code in SYSTEM_HINTS) return code;
    cur = (cur as Tagged).cause;
  }
  return null;
}

const MODEL_USER_CODES = new Set([
  'BAD_CONFIG',
  'BAD_SAFETENSORS',
  'MISSING_TENSOR',
  'SHAPE_MISMATCH',
  'BAD_TOKENIZER',
  'NO_TOKENIZER',
  'IO',
]);
const DATA_USER_CODES = new Set([
  'BAD_RECORD',
  'NOT_FOUND',
  'DOWNLOAD_FAILED',
  'SIZE_MISMATCH',
  'HASH_MISMATCH',
  'UNKNOWN_DATASET',
]);
const RUNS_USER_CODES = new Set([
  'INVALID_JSON',
  'INVALID_RECORD',
  'NEWER_VERSION',
  'NOT_FOUND',
  'RUN_EXISTS',
]);
const VIEWER_USER_CODES = new Set([
  'RUNS_DIR_NOT_FOUND',
  'RUN_NOT_FOUND',
  'SITE_NOT_BUILT',
  'INVALID_OPTION',
  'OUT_DIR_NOT_EMPTY',
]);

/**
 * Maps an error to the user error it really is, or null for a genuine internal error. Matches
 * the packages' error classes by `name` and `code` (no imports, so `--help` stays light):
 * bad model files (`ModelError`), bad data lines (`DatasetError BAD_RECORD`, with the
 * `--data-on-error skip` hint), run-folder problems and locks (`RunsError`), non-finite training
 * (`NON_FINITE` from grpo/saliency), GRPO options grpo rejects (`GrpoError BAD_CONFIG`), viewer
 * options, the Redis job queue of `--queue` (`QueueError`: no worker connected, Redis unreachable,
 * a job that failed on a worker), and system errors about disks, permissions
 * and ports (`ENOSPC`, `EACCES`, `EADDRINUSE`, ... anywhere in the cause chain).
 */
export function toUserError(e: unknown): UsageError | null {
  if (e instanceof UsageError) return e;
  if (e === null || typeof e !== 'object') return null;
  const { name, code } = e as Tagged;
  const message = String((e as Tagged).message ?? e);
  const sys = systemCode(e);
  if (sys !== null) {
    return new UsageError(
      sys === 'EADDRINUSE' ? 'PORT_IN_USE' : 'IO_ERROR',
      `${message} (${sys}: ${SYSTEM_HINTS[sys]})`,
      { cause: e },
    );
  }
  if (code === 'NON_FINITE') return new UsageError('NON_FINITE', message, { cause: e });
  if (name === 'ModelError' && MODEL_USER_CODES.has(String(code))) {
    return new UsageError('BAD_MODEL', message, { cause: e });
  }
  if (name === 'DatasetError' && DATA_USER_CODES.has(String(code))) {
    const hint =
      code === 'BAD_RECORD'
        ? ' Fix or remove that line, or pass --data-on-error skip to skip malformed records (they are counted and reported).'
        : '';
    return new UsageError('BAD_DATA', `${message}${hint}`, { cause: e });
  }
  if (name === 'RunsError') {
    if (code === 'LOCKED') return new UsageError('RUN_LOCKED', message, { cause: e });
    if (RUNS_USER_CODES.has(String(code))) return new UsageError('BAD_RUN', message, { cause: e });
  }
  // --queue: no workers within --queue-timeout, Redis unreachable, a refused or failed job.
  if (name === 'QueueError') return new UsageError('QUEUE', message, { cause: e });
  if (name === 'GrpoError' && code === 'BAD_CONFIG') {
    return new UsageError('BAD_CONFIG', message, { cause: e });
  }
  if (name === 'ViewerError' && VIEWER_USER_CODES.has(String(code))) {
    return new UsageError('BAD_CONFIG', message, { cause: e });
  }
  return null;
}
