// MMLU records: the item types and the few-shot selection (browser-safe). Loading from CSV or
// parquet files is in node/mmlu.ts (`@atmanrl/datasets/node`).

import type { MmluCategory } from './mmlu-subjects.js';

/** MMLU splits: `dev` (5 per subject, for few-shot), `val`, `test`. */
export type MmluSplit = 'dev' | 'val' | 'test';

/** The four answer letters. */
export type ChoiceLetter = 'A' | 'B' | 'C' | 'D';

/** One MMLU question. */
export interface MmluItem {
  /** Stable id: `mmlu/<split>/<subject>/<0-based index within the subject>`. */
  id: string;
  subject: string;
  /** Category from MMLU's categories.py; `'other'` for a subject MMLU does not list. */
  category: MmluCategory;
  split: MmluSplit;
  question: string;
  choices: [string, string, string, string];
  answer: ChoiceLetter;
}

/** The first `k` dev items of `subject`, in file order: the few-shot examples of MMLU's protocol. */
export function mmluFewShot(devItems: readonly MmluItem[], subject: string, k: number): MmluItem[] {
  return devItems.filter((it) => it.subject === subject).slice(0, k);
}
