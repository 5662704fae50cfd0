import { describe, expect, it } from 'vitest';
import {
  createCursor,
  type DataCursor,
  iterateBatches,
  nextBatch,
  shuffledIndices,
} from './iteration.js';

const items = Array.from({ length: 23 }, (_, i) => `item${i}`);

describe('shuffledIndices', () => {
  it('is a permutation, deterministic per (seed, epoch), and reshuffles each epoch', () => {
    const a = shuffledIndices(50, 7, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffledIndices(50, 7, 0)).toEqual(a);
    expect(shuffledIndices(50, 7, 1)).not.toEqual(a);
    expect(shuffledIndices(50, 8, 0)).not.toEqual(a);
  });
});

describe('batch iteration', () => {
  it('each epoch visits every item exactly once; the last batch is partial', () => {
    const batches = [...iterateBatches(items, { seed: 3, batchSize: 5, epochs: 2 })];
    expect(batches.map((b) => b.items.length)).toEqual([5, 5, 5, 5, 3, 5, 5, 5, 5, 3]);
    const epoch0 = batches.slice(0, 5).flatMap((b) => b.items);
    expect([...epoch0].sort()).toEqual([...items].sort());
    expect(batches[4]?.cursor).toEqual({ epoch: 1, index: 0, seed: 3 });
  });

  it('dropLast skips the partial batch', () => {
    const batches = [
      ...iterateBatches(items, { seed: 3, batchSize: 5, epochs: 2, dropLast: true }),
    ];
    expect(batches.map((b) => b.items.length)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
  });

  it('resuming from a JSON round-tripped cursor equals uninterrupted iteration (every split point)', () => {
    const full = [...iterateBatches(items, { seed: 11, batchSize: 4, epochs: 3 })].map(
      (b) => b.items,
    );
    for (let stop = 0; stop < full.length; stop++) {
      let cursor: DataCursor = createCursor(11);
      const got: string[][] = [];
      for (let i = 0; i < stop; i++) {
        const b = nextBatch(items, cursor, 4);
        got.push(b.items);
        cursor = b.cursor;
      }
      const saved = JSON.parse(JSON.stringify(cursor)) as DataCursor;
      for (const b of iterateBatches(items, { seed: 11, batchSize: 4, epochs: 3, cursor: saved }))
        got.push(b.items);
      expect(got).toEqual(full);
    }
  });

  it('rejects a cursor from a bigger dataset and a bad batch size', () => {
    expect(() => nextBatch(items, { epoch: 0, index: 99, seed: 1 }, 4)).toThrow(/outside/);
    expect(() => nextBatch(items, createCursor(1), 0)).toThrow(/batchSize/);
  });
});
