// Splits a synthetic task's problems into train / val / test by their content, so that no question
// text of the test split is ever an SFT or RL question (issue 29): a hash of the question text
// decides the split, whatever stream, seed or index the problem came from. Leaves out how a task
// walks its stream (modes.ts, hint-modes.ts).
import { DatasetError } from './errors.js';

/** A split of a synthetic task. */
export type ContentSplit = 'train' | 'val' | 'test';

/** Shares of the question space held out for test and val (the rest is train). */
export interface ContentSplitShares {
  test: number;
  val: number;
}

/**
 * Default held-out shares of distinct questions: test 0.2, val 0.1, train 0.7. Shares of distinct
 * questions, not of a stream: a question that a generator draws often weighs more in its split.
 */
export const DEFAULT_SPLIT_SHARES: Readonly<ContentSplitShares> = { test: 0.2, val: 0.1 };

/**
 * 32-bit FNV-1a of a string's UTF-8 bytes (offset basis 0x811c9dc5, prime 0x01000193).
 * @example fnv1a32('a') // 0xe40c292c (the published test vector)
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A uniform number in [0, 1) from a text: FNV-1a, then MurmurHash3's fmix32 so every bit mixes. */
export function contentUnit(text: string): number {
  let z = fnv1a32(text);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
}

/**
 * The split a question belongs to, by its text alone: test when `contentUnit(text) < shares.test`,
 * val when below `shares.test + shares.val`, else train. Deterministic and independent of where
 * the question was generated, so two splits never share a question text.
 * @throws DatasetError `INVALID_ARGUMENT` for shares outside [0, 1] or summing above 1
 */
export function contentSplit(
  text: string,
  shares: Readonly<ContentSplitShares> = DEFAULT_SPLIT_SHARES,
): ContentSplit {
  checkShares(shares);
  const u = contentUnit(text);
  if (u < shares.test) return 'test';
  if (u < shares.test + shares.val) return 'val';
  return 'train';
}

/** @throws DatasetError `INVALID_ARGUMENT` for shares outside [0, 1] or summing above 1 */
export function checkShares(shares: Readonly<ContentSplitShares>): void {
  const ok = (x: number) => typeof x === 'number' && x >= 0 && x <= 1;
  if (!ok(shares.test) || !ok(shares.val) || shares.test + shares.val > 1) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `split shares test ${shares.test}, val ${shares.val}: expected each in [0, 1] and their sum ≤ 1`,
    );
  }
}

/**
 * The first `count` items of a deterministic stream whose question falls in `split`: items
 * `make(0), make(1), ...` are drawn in order and kept when `contentSplit(question(item))` is
 * `split`. Stops with an error after `maxDraws` draws (the split is too rare in the stream).
 * @throws DatasetError `INVALID_ARGUMENT` for a negative count or when `maxDraws` runs out
 */
export function takeSplit<T>(
  split: ContentSplit,
  count: number,
  make: (index: number) => T,
  question: (item: T) => string,
  options: { shares?: Readonly<ContentSplitShares>; maxDraws?: number; where?: string } = {},
): T[] {
  const shares = options.shares ?? DEFAULT_SPLIT_SHARES;
  checkShares(shares);
  const where = options.where ?? 'takeSplit';
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `${where}: count is ${count}, expected an integer ≥ 0`,
    );
  }
  const maxDraws = options.maxDraws ?? Math.max(1000, count * 200);
  const out: T[] = [];
  for (let i = 0; out.length < count; i++) {
    if (i >= maxDraws) {
      throw new DatasetError(
        'INVALID_ARGUMENT',
        `${where}: found only ${out.length} of ${count} '${split}' items in ${maxDraws} draws; the split holds too few of the task's questions (shares test ${shares.test}, val ${shares.val})`,
      );
    }
    const item = make(i);
    if (contentSplit(question(item), shares) === split) out.push(item);
  }
  return out;
}
