// Deterministic, resumable iteration: a per-epoch seeded shuffle and a serialisable cursor.
// Leaves out sharding across workers and infinite streams.

import { combineSeeds, Prng } from './_internal/prng.js';
import { DatasetError } from './errors.js';

/**
 * Where iteration stands: `index` items of epoch `epoch`'s permutation have been consumed.
 * Plain JSON; save it with a checkpoint and pass it back to resume exactly.
 */
export interface DataCursor {
  epoch: number;
  index: number;
  seed: number;
}

/** One batch and the cursor that points just after it. */
export interface Batch<T> {
  items: T[];
  /** Positions of `items` in the original array. */
  indices: number[];
  /** Cursor after this batch (save this to resume). */
  cursor: DataCursor;
}

let memo: { n: number; seed: number; epoch: number; order: number[] } | null = null;

/**
 * The permutation of `0..length-1` used in epoch `epoch` for `seed` (Fisher-Yates with a
 * splitmix32 stream seeded by `(seed, epoch)`); each epoch reshuffles.
 */
export function shuffledIndices(length: number, seed: number, epoch: number): number[] {
  if (memo && memo.n === length && memo.seed === seed && memo.epoch === epoch)
    return [...memo.order];
  const order = Array.from({ length }, (_, i) => i);
  const rng = new Prng(combineSeeds(seed, epoch));
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  memo = { n: length, seed, epoch, order };
  return [...order];
}

/** A fresh cursor at the start of epoch 0. */
export function createCursor(seed: number): DataCursor {
  return { epoch: 0, index: 0, seed };
}

/**
 * Takes the next batch at `cursor`. Batches never span two epochs: the last batch of an epoch
 * may be smaller (unless `dropLast`), and the returned cursor then points at the next epoch.
 */
export function nextBatch<T>(
  items: readonly T[],
  cursor: DataCursor,
  batchSize: number,
  options: { dropLast?: boolean } = {},
): Batch<T> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  if (items.length === 0)
    throw new DatasetError('INVALID_ARGUMENT', 'cannot batch an empty dataset');
  const n = items.length;
  if (!Number.isInteger(cursor.index) || cursor.index < 0 || cursor.index > n) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `cursor.index ${cursor.index} is outside [0, ${n}]: was it saved for another dataset?`,
    );
  }
  let { epoch, index } = cursor;
  if (index >= n || (options.dropLast && n - index < batchSize)) {
    epoch += 1;
    index = 0;
  }
  if (options.dropLast && n < batchSize) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `dropLast with batchSize ${batchSize} > dataset size ${n} yields nothing`,
    );
  }
  const order = shuffledIndices(n, cursor.seed, epoch);
  const indices = order.slice(index, index + batchSize);
  index += indices.length;
  const after =
    index >= n
      ? { epoch: epoch + 1, index: 0, seed: cursor.seed }
      : { epoch, index, seed: cursor.seed };
  return { items: indices.map((i) => items[i] as T), indices, cursor: after };
}

/**
 * Yields batches from `cursor` (default: the start) until `epochs` epochs are complete.
 *
 * @example for (const b of iterateBatches(samples, { seed: 1, batchSize: 8, epochs: 2 })) save(b.cursor)
 */
export function* iterateBatches<T>(
  items: readonly T[],
  options: {
    seed: number;
    batchSize: number;
    epochs: number;
    cursor?: DataCursor;
    dropLast?: boolean;
  },
): Generator<Batch<T>> {
  let cursor = options.cursor ?? createCursor(options.seed);
  while (true) {
    const willWrap =
      cursor.index >= items.length ||
      (options.dropLast === true && items.length - cursor.index < options.batchSize);
    const epoch = willWrap ? cursor.epoch + 1 : cursor.epoch;
    if (epoch >= options.epochs) return;
    const batch = nextBatch(items, cursor, options.batchSize, {
      dropLast: options.dropLast ?? false,
    });
    cursor = batch.cursor;
    yield batch;
  }
}
