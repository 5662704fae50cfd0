// MMLU loading: per-subject CSV files (hendrycks/test layout) or Hugging Face parquet (cais/mmlu).
// Leaves out prompt building (prompts.ts); subjects are discovered from the files, never hard-coded.
// Node-only (`@atmanrl/datasets/node`).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCsv } from '../_internal/csv.js';
import { reportBadRecord } from '../_internal/records.js';
import { DatasetError } from '../errors.js';
import type { ChoiceLetter, MmluItem, MmluSplit } from '../mmlu.js';
import { mmluCategory } from '../mmlu-subjects.js';
import type { LoadResult, Logger, OnError, SkippedRecord } from '../types.js';
import { findParquetShards, notFound, pathKind } from './_internal/files.js';
import { readParquetRows, toInt } from './_internal/parquet.js';

/** Options of {@link loadMmlu}. */
export interface LoadMmluOptions {
  /**
   * The data folder holding `dev/ val/ test/` with `<subject>_<split>.csv` (the MMLU tarball's
   * `data/`), a folder of Hugging Face shards `<split>-*.parquet` (also inside `all/`;
   * `val` is read from `validation-*`), or one `.parquet` file.
   */
  path: string;
  /** Split to load (default `'test'`). */
  split?: MmluSplit;
  /** Only these subjects (default: every subject found). Unknown names throw NOT_FOUND. */
  subjects?: string[];
  /** Malformed row: throw (default) or skip and report in `skipped`. */
  onError?: OnError;
  logger?: Logger;
}

const LETTERS: readonly ChoiceLetter[] = ['A', 'B', 'C', 'D'];
const HF_SPLIT: Record<MmluSplit, string> = { dev: 'dev', val: 'validation', test: 'test' };

function makeItem(
  split: MmluSplit,
  subject: string,
  index: number,
  question: string,
  choices: [string, string, string, string],
  answer: ChoiceLetter,
): MmluItem {
  return {
    id: `mmlu/${split}/${subject}/${index}`,
    subject,
    category: mmluCategory(subject) ?? 'other',
    split,
    question,
    choices,
    answer,
  };
}

async function loadCsvSplit(
  dir: string,
  split: MmluSplit,
  subjects: string[] | undefined,
  onError: OnError,
  logger?: Logger,
): Promise<LoadResult<MmluItem>> {
  const suffix = `_${split}.csv`;
  const found = (await readdir(dir))
    .filter((n) => n.endsWith(suffix))
    .map((n) => n.slice(0, -suffix.length))
    .sort();
  const wanted = subjects ?? found;
  for (const s of wanted) {
    if (!found.includes(s)) notFound(`MMLU subject "${s}"`, dir, `Found: ${found.join(', ')}.`);
  }
  const items: MmluItem[] = [];
  const skipped: SkippedRecord[] = [];
  for (const subject of wanted) {
    if (mmluCategory(subject) === undefined) {
      logger?.warn(`MMLU subject "${subject}" is not in MMLU_SUBJECTS; category set to "other"`);
    }
    const file = join(dir, subject + suffix);
    const { records, unterminatedAt } = parseCsv(await readFile(file, 'utf8'));
    let index = 0;
    for (const { fields, line } of records) {
      const letter = (fields[5] ?? '').trim().toUpperCase() as ChoiceLetter;
      if (fields.length !== 6) {
        reportBadRecord(
          onError,
          skipped,
          file,
          line,
          `expected 6 columns (question,A,B,C,D,answer), got ${fields.length}`,
          logger,
        );
      } else if (!LETTERS.includes(letter)) {
        reportBadRecord(
          onError,
          skipped,
          file,
          line,
          `answer must be A, B, C or D, got "${fields[5]}"`,
          logger,
        );
      } else {
        const [q, a, b, c, d] = fields as [string, string, string, string, string];
        items.push(makeItem(split, subject, index, q, [a, b, c, d], letter));
      }
      index++;
    }
    if (unterminatedAt !== null) {
      reportBadRecord(onError, skipped, file, unterminatedAt, 'unterminated quoted field', logger);
    }
  }
  return { items, skipped };
}

async function loadParquetSplit(
  files: string[],
  split: MmluSplit,
  subjects: string[] | undefined,
  onError: OnError,
  logger?: Logger,
): Promise<LoadResult<MmluItem>> {
  const items: MmluItem[] = [];
  const skipped: SkippedRecord[] = [];
  const perSubject = new Map<string, number>();
  for (const file of files) {
    const rows = await readParquetRows(file);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as Record<string, unknown>;
      const { question, subject, choices } = row;
      const answer = toInt(row['answer']);
      const bad =
        typeof question !== 'string' || typeof subject !== 'string'
          ? 'expected string columns "question" and "subject"'
          : !Array.isArray(choices) ||
              choices.length !== 4 ||
              !choices.every((c) => typeof c === 'string')
            ? 'expected "choices" to be a list of 4 strings'
            : answer === null || answer < 0 || answer > 3
              ? `expected "answer" to be an integer 0-3, got ${String(row['answer'])}`
              : null;
      if (bad !== null) {
        reportBadRecord(onError, skipped, file, r + 1, bad, logger);
        continue;
      }
      const subj = subject as string;
      const index = perSubject.get(subj) ?? 0;
      perSubject.set(subj, index + 1);
      if (subjects && !subjects.includes(subj)) continue;
      const [a, b, c, d] = choices as [string, string, string, string];
      items.push(
        makeItem(
          split,
          subj,
          index,
          question as string,
          [a, b, c, d],
          LETTERS[answer as number] as ChoiceLetter,
        ),
      );
    }
  }
  for (const s of subjects ?? []) {
    if (!perSubject.has(s)) notFound(`MMLU subject "${s}"`, files.join(', '), 'Check the name.');
  }
  return { items, skipped };
}

/**
 * Loads one MMLU split from CSV (no header; columns question, A, B, C, D, answer letter;
 * quoted fields may contain commas, quotes and newlines) or from cais/mmlu parquet shards
 * (columns question, subject, choices, answer 0-3). Items are ordered by subject, then file order.
 *
 * @example const { items } = await loadMmlu({ path: 'data/mmlu', split: 'dev' });
 */
export async function loadMmlu(options: LoadMmluOptions): Promise<LoadResult<MmluItem>> {
  const { path, split = 'test', subjects, onError = 'throw', logger } = options;
  if (!Object.hasOwn(HF_SPLIT, split)) {
    throw new DatasetError('INVALID_ARGUMENT', `split must be dev, val or test, got "${split}"`);
  }
  if (onError !== 'throw' && onError !== 'skip') {
    throw new DatasetError('INVALID_ARGUMENT', `onError must be 'throw' or 'skip', got ${onError}`);
  }
  const kind = await pathKind(path);
  if (kind === null) notFound('MMLU path', path, 'Pass the data folder or a parquet file/folder.');
  if (kind === 'file') return loadParquetSplit([path], split, subjects, onError, logger);
  const csvDir = join(path, split);
  if ((await pathKind(csvDir)) === 'dir') {
    return loadCsvSplit(csvDir, split, subjects, onError, logger);
  }
  const shards = await findParquetShards(path, HF_SPLIT[split], ['all']);
  if (shards.length > 0) return loadParquetSplit(shards, split, subjects, onError, logger);
  return notFound(
    `MMLU split "${split}"`,
    path,
    `Expected ${split}/<subject>_${split}.csv or ${HF_SPLIT[split]}-*.parquet (optionally inside all/).`,
  );
}
