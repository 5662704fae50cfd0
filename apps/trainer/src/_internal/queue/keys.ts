// Names in Redis shared by the trainer and the workers: BullMQ's own keys live under
// `atmanrl:<queue>:…`; the queue's side records (worker heartbeats, run sessions, weight blobs)
// under `atmanrl-meta:<queue>:…`, so they never collide with a job id.

/** BullMQ key prefix. */
export const BULL_PREFIX = 'atmanrl';
/** Default BullMQ queue name. */
export const DEFAULT_QUEUE = 'jobs';
/** Heartbeat period of a worker (ms) and how long a silent worker still counts as connected. */
export const HEARTBEAT_MS = 1000;
export const HEARTBEAT_TTL_MS = 4000;

/** Prefix of the side records of queue `name`. */
export function metaPrefix(name: string): string {
  return `atmanrl-meta:${name}`;
}

/** What a worker publishes every {@link HEARTBEAT_MS} (JSON, with a TTL). */
export interface WorkerBeat {
  /** `host pid N`. */
  id: string;
  backend: string;
  concurrency: number;
  /** Jobs finished since the worker started (both kinds). */
  jobsDone: number;
  fitItemsDone: number;
  /** Sum of the jobs' wall time in their threads (ms). */
  busyMs: number;
  /** When the worker started (ms since the epoch). */
  startedAt: number;
  /** sha256 of the weights version it holds, null before the first. */
  weights: string | null;
  /** Step (of run `run`) of that version. */
  step: number | null;
  run: string | null;
}

/** BullMQ job ids may not contain ':'; a run id is kept to [A-Za-z0-9._-]. */
export function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '-');
}
