// File discovery helpers for the loaders (CSV/JSONL layouts and Hugging Face parquet folders).

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from '../../errors.js';

/** Kind of a path: 'file', 'dir' or null when it does not exist. */
export async function pathKind(path: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/**
 * Parquet shards of one split in a Hugging Face dataset folder: `<dir>/<split>-*.parquet`, or the
 * same inside one of `subdirs` (e.g. `main` for openai/gsm8k, `all` for cais/mmlu). Sorted.
 */
export async function findParquetShards(
  dir: string,
  split: string,
  subdirs: string[],
): Promise<string[]> {
  for (const d of [dir, ...subdirs.map((s) => join(dir, s))]) {
    if ((await pathKind(d)) !== 'dir') continue;
    const names = (await readdir(d))
      .filter((n) => n.startsWith(`${split}-`) && n.endsWith('.parquet'))
      .sort();
    if (names.length > 0) return names.map((n) => join(d, n));
  }
  return [];
}

/** Throws NOT_FOUND with a message listing what was looked for. */
export function notFound(what: string, path: string, hint: string): never {
  throw new DatasetError('NOT_FOUND', `${what} not found under ${path}. ${hint}`);
}
