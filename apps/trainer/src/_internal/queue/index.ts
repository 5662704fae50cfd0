// The Redis job queue's face inside the trainer: the trainer's pool, the worker, errors, URLs.
export type { QueueErrorCode } from './errors.js';
export { QueueError } from './errors.js';
export { parseWorkerArgs, runQueueWorker } from './main.js';
export type { ConnectedWorker, QueuePoolOptions } from './queue-pool.js';
export { QueuePool } from './queue-pool.js';
export type { QueueEnvelope, QueueResult, StoreRef, WeightsRef } from './schema.js';
export { parseEnvelope, parseResult, QUEUE_PROTOCOL } from './schema.js';
export type { QueueUrl } from './url.js';
export { parseQueueUrl } from './url.js';
export type { QueueWorkerOptions } from './worker.js';
export { QueueWorker } from './worker.js';
