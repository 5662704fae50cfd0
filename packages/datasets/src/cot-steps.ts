// Splitting a chain of thought into steps (lines, then sentences) for early answering.
// Leaves out any semantic segmentation: a step is a line or a sentence ending in . ! or ?.

import type { CharRange } from './types.js';

/** One CoT step: its text and its `[start, end)` range in the CoT string. */
export interface CotStep {
  text: string;
  range: CharRange;
}

/**
 * Splits a CoT into steps: each non-empty line, and inside a line each sentence that ends with
 * `.`, `!` or `?` followed by whitespace or the end (so `$1.50` and `3.5` stay whole).
 * Ranges exclude surrounding whitespace; `cot.slice(0, steps[k].range[1])` is the CoT truncated
 * after step k.
 *
 * @example splitCotSteps('4*2=8. 3+8=11.').map((s) => s.text) // ['4*2=8.', '3+8=11.']
 */
export function splitCotSteps(cot: string): CotStep[] {
  const steps: CotStep[] = [];
  const boundary = /[.!?](?=\s|$)|\n/g;
  let start = 0;
  const push = (from: number, to: number): void => {
    let s = from;
    let e = to;
    while (s < e && /\s/.test(cot[s] as string)) s++;
    while (e > s && /\s/.test(cot[e - 1] as string)) e--;
    if (e > s) steps.push({ text: cot.slice(s, e), range: [s, e] });
  };
  for (const m of cot.matchAll(boundary)) {
    const end = m[0] === '\n' ? m.index : m.index + 1;
    push(start, end);
    start = m.index + 1;
  }
  push(start, cot.length);
  return steps;
}
