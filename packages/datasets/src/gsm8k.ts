// GSM8K records: the item type and the reference-solution parser (browser-safe). Loading from
// JSONL or parquet files is in node/gsm8k.ts (`@atmanrl/datasets/node`).

import { normalizeNumber } from './numbers.js';

/** One GSM8K problem. */
export interface Gsm8kItem {
  /** Stable id: `gsm8k/<file stem>/<0-based record index>`. */
  id: string;
  question: string;
  /** The reference solution exactly as in the file (with `<<...>>` annotations and `#### n`). */
  answer: string;
  /** The reference reasoning: solution without calculator annotations and without the `####` line. */
  reasoning: string;
  /** Canonical gold number (the text after `####`, commas removed, normalised). */
  gold: string;
}

/** The two official GSM8K splits. */
export type Gsm8kSplit = 'train' | 'test';

/**
 * Splits a GSM8K reference solution into the reasoning (calculator annotations `<<...>>`
 * removed, `####` line dropped) and the canonical gold number. Returns null without `####`
 * or when what follows is not a number.
 *
 * @example parseGsm8kSolution('2*3=<<2*3=6>>6\n#### 6') // { reasoning: '2*3=6', gold: '6' }
 */
export function parseGsm8kSolution(answer: string): { reasoning: string; gold: string } | null {
  const at = answer.lastIndexOf('####');
  if (at < 0) return null;
  const gold = normalizeNumber(
    answer
      .slice(at + 4)
      .trim()
      .replace(/,/g, ''),
  );
  if (gold === null) return null;
  const reasoning = answer
    .slice(0, at)
    .replace(/<<[^>]*>>/g, '')
    .trim();
  return { reasoning, gold };
}
