// GSM8K loading: JSONL ({question, answer}) or Hugging Face parquet (openai/gsm8k); gold + reasoning.
// Leaves out prompt building (prompts.ts) and scoring (eval). Node-only (`@atmanrl/datasets/node`).

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { reportBadRecord } from '../_internal/records.js';
import { DatasetError } from '../errors.js';
import { type Gsm8kItem, type Gsm8kSplit, parseGsm8kSolution } from '../gsm8k.js';
import type { LoadResult, Logger, OnError, SkippedRecord } from '../types.js';
import { findParquetShards, notFound, pathKind } from './_internal/files.js';
import { readParquetRows } from './_internal/parquet.js';

/** Options of {@link loadGsm8k}. */
export interface LoadGsm8kOptions {
  /** A `.jsonl` or `.parquet` file, or a folder holding `<split>.jsonl` or `<split>-*.parquet` (also in `main/`). */
  path: string;
  /** Split to pick when `path` is a folder (default `'test'`). */
  split?: Gsm8kSplit;
  /** Malformed record: throw (default) or skip and report in `skipped`. */
  onError?: OnError;
  logger?: Logger;
}

function toItem(
  record: unknown,
  stem: string,
  index: number,
): { item: Gsm8kItem } | { error: string } {
  if (typeof record !== 'object' || record === null) return { error: 'expected a JSON object' };
  const { question, answer } = record as { question?: unknown; answer?: unknown };
  if (typeof question !== 'string' || typeof answer !== 'string') {
    return { error: 'expected string fields "question" and "answer"' };
  }
  const parsed = parseGsm8kSolution(answer);
  if (!parsed) return { error: 'answer has no "#### <number>" line' };
  return { item: { id: `gsm8k/${stem}/${index}`, question, answer, ...parsed } };
}

async function loadJsonl(
  file: string,
  onError: OnError,
  logger?: Logger,
): Promise<LoadResult<Gsm8kItem>> {
  const text = await readFile(file, 'utf8');
  const stem = basename(file).replace(/\.jsonl$/, '');
  const items: Gsm8kItem[] = [];
  const skipped: SkippedRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '') continue; // blank lines are not records
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      reportBadRecord(
        onError,
        skipped,
        file,
        i + 1,
        `invalid JSON (${(err as Error).message})`,
        logger,
      );
      continue;
    }
    const r = toItem(record, stem, i);
    if ('error' in r) reportBadRecord(onError, skipped, file, i + 1, r.error, logger);
    else items.push(r.item);
  }
  return { items, skipped };
}

async function loadParquet(
  files: string[],
  onError: OnError,
  logger?: Logger,
): Promise<LoadResult<Gsm8kItem>> {
  const items: Gsm8kItem[] = [];
  const skipped: SkippedRecord[] = [];
  let index = 0;
  for (const file of files) {
    const stem = basename(file).replace(/-\d+-of-\d+\.parquet$|\.parquet$/, '');
    const rows = await readParquetRows(file);
    for (let row = 0; row < rows.length; row++, index++) {
      const r = toItem(rows[row], stem, index);
      // Parquet has no lines: `line` is the 1-based row number within the file.
      if ('error' in r) reportBadRecord(onError, skipped, file, row + 1, r.error, logger);
      else items.push(r.item);
    }
  }
  return { items, skipped };
}

/**
 * Loads GSM8K from the official JSONL files (openai/grade-school-math) or Hugging Face parquet
 * shards (openai/gsm8k: columns `question`, `answer`). Counts are whatever the files hold.
 *
 * @example const { items } = await loadGsm8k({ path: 'data/gsm8k', split: 'test' });
 */
export async function loadGsm8k(options: LoadGsm8kOptions): Promise<LoadResult<Gsm8kItem>> {
  const { path, split = 'test', onError = 'throw', logger } = options;
  if (onError !== 'throw' && onError !== 'skip') {
    throw new DatasetError('INVALID_ARGUMENT', `onError must be 'throw' or 'skip', got ${onError}`);
  }
  const kind = await pathKind(path);
  if (kind === null) notFound('GSM8K path', path, 'Pass a .jsonl/.parquet file or a folder.');
  if (kind === 'file') {
    // A file named for one split, loaded as another, is a mistake to name, not to ignore.
    const named = /^(train|test)[.-]/.exec(basename(path))?.[1];
    if (options.split !== undefined && named !== undefined && named !== options.split) {
      throw new DatasetError(
        'INVALID_ARGUMENT',
        `split "${options.split}" contradicts the file ${path} (a ${named} file); pass split "${named}", or the folder holding both splits`,
      );
    }
    return path.endsWith('.parquet')
      ? loadParquet([path], onError, logger)
      : loadJsonl(path, onError, logger);
  }
  const jsonl = join(path, `${split}.jsonl`);
  if ((await pathKind(jsonl)) === 'file') return loadJsonl(jsonl, onError, logger);
  const shards = await findParquetShards(path, split, ['main']);
  if (shards.length > 0) return loadParquet(shards, onError, logger);
  return notFound(
    `GSM8K split "${split}"`,
    path,
    `Expected ${split}.jsonl or ${split}-*.parquet (optionally inside main/).`,
  );
}
