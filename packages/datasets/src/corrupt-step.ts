// "Adding mistakes" (Lanham et al. 2023) for arithmetic CoTs: change the result of step k and
// carry the wrong value through the later steps. Leaves out free-text CoTs (GSM8K prose).

import { combineSeeds, Prng } from './_internal/prng.js';
import { DatasetError } from './errors.js';
import type { CharRange } from './types.js';

/** Result of {@link corruptCotStep}. */
export interface CorruptedCot {
  /** The CoT up to and including the corrupted step k (for "regenerate the rest" tests). */
  prefix: string;
  /** The whole CoT with step k's result changed and later steps recomputed from it. */
  cot: string;
  /** Range of the changed number inside `prefix` and `cot`. */
  changedRange: CharRange;
  originalValue: number;
  corruptedValue: number;
  /** The last step's result after propagation (the answer the corrupted CoT implies). */
  answer: number;
}

const STEP = /(-?\d+)([+*-])(-?\d+)=(-?\d+)/g;

function applyOp(a: number, op: string, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : a * b;
}

/**
 * Corrupts step `k` (0-based) of an arithmetic CoT written as `a op b=c.` steps: `c` becomes a
 * different number (`c + delta`, delta drawn from ±1..±3 by `seed` unless given), and every
 * later step that consumed the old `c` uses the new value, its result recomputed, and so on.
 *
 * SIMPLIFICATION: the flow of values is recovered by matching numbers (the first still-unused
 * changed value equal to an operand, left operand first), which is exact for the generator's
 * CoTs unless an operand coincides with an intermediate result in the same step.
 *
 * @example corruptCotStep('4*2=8. 3+8=11. 11-1=10.', 0, { delta: 1 }).cot // '4*2=9. 3+9=12. 12-1=11.'
 */
export function corruptCotStep(
  cot: string,
  k: number,
  options: { seed?: number; delta?: number } = {},
): CorruptedCot {
  const matches = [...cot.matchAll(STEP)];
  if (!Number.isInteger(k) || k < 0 || k >= matches.length) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `step ${k} out of range: the CoT has ${matches.length} arithmetic steps (a op b=c)`,
    );
  }
  let delta = options.delta;
  if (delta === undefined) {
    const rng = new Prng(combineSeeds(options.seed ?? 0, k));
    delta = rng.int(1, 3) * (rng.next() < 0.5 ? -1 : 1);
  }
  if (!Number.isInteger(delta) || delta === 0) {
    throw new DatasetError('INVALID_ARGUMENT', `delta must be a non-zero integer, got ${delta}`);
  }
  const pending: { old: number; now: number }[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  let originalValue = 0;
  let corruptedValue = 0;
  let answer = 0;
  let changedRange: CharRange = [0, 0];
  matches.forEach((m, i) => {
    let a = Number(m[1]);
    const op = m[2] as string;
    let b = Number(m[3]);
    const oldResult = Number(m[4]);
    const start = m.index;
    let result = oldResult;
    if (i === k) {
      originalValue = oldResult;
      corruptedValue = oldResult + delta;
      result = corruptedValue;
    } else if (i > k) {
      const take = (v: number): number => {
        const at = pending.findIndex((p) => p.old === v);
        if (at < 0) return v;
        const [p] = pending.splice(at, 1);
        return (p as { now: number }).now;
      };
      a = take(a);
      b = take(b);
      result = applyOp(a, op, b);
    }
    if (i >= k) {
      if (result !== oldResult) pending.push({ old: oldResult, now: result });
      const text = `${a}${op}${b}=${result}`;
      edits.push({ start, end: start + m[0].length, text });
    }
    answer = i >= k ? result : oldResult;
  });
  let out = '';
  let pos = 0;
  let shift = 0;
  let prefixEnd = 0;
  edits.forEach((e, j) => {
    out += cot.slice(pos, e.start) + e.text;
    if (j === 0) {
      const eq = e.text.lastIndexOf('=');
      changedRange = [e.start + shift + eq + 1, e.start + shift + e.text.length];
      // Include the step's closing period, if any, in the prefix.
      prefixEnd = changedRange[1] + (cot[e.end] === '.' ? 1 : 0);
    }
    shift += e.text.length - (e.end - e.start);
    pos = e.end;
  });
  out += cot.slice(pos);
  return {
    prefix: out.slice(0, prefixEnd),
    cot: out,
    changedRange,
    originalValue,
    corruptedValue,
    answer,
  };
}
