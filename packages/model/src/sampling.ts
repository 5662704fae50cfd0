// Choosing the next token on the host from one row of log-probs: greedy, temperature, top-k, top-p.
import type { Rng } from './rng.js';

/** Sampling settings (temperature is applied before the log-probs reach this function). */
export interface SamplingOptions {
  greedy: boolean;
  topK?: number;
  topP?: number;
}

/**
 * Pick a token id from `logProbs` (a normalised log-distribution over V).
 * Greedy takes the first maximum. Otherwise top-k keeps the k largest, top-p the smallest prefix of
 * the sorted distribution whose mass reaches p (Hugging Face semantics: the token that crosses p is
 * kept), and one uniform draw from `rng` selects by inverse CDF over the renormalised remainder.
 */
export function sampleToken(logProbs: Float32Array, options: SamplingOptions, rng: Rng): number {
  const v = logProbs.length;
  if (options.greedy) {
    let best = 0;
    for (let i = 1; i < v; i++) if (logProbs[i]! > logProbs[best]!) best = i;
    return best;
  }
  const topK = options.topK && options.topK > 0 && options.topK < v ? options.topK : 0;
  const topP = options.topP !== undefined && options.topP < 1 ? options.topP : 1;
  if (topK === 0 && topP === 1) {
    const u = rng.next();
    let acc = 0;
    let lastPositive = 0;
    for (let i = 0; i < v; i++) {
      const p = Math.exp(logProbs[i]!);
      if (p > 0) lastPositive = i;
      acc += p;
      if (u < acc) return i;
    }
    return lastPositive; // rounding: total mass slightly below 1
  }
  const order = Array.from({ length: v }, (_, i) => i).sort(
    (a, b) => logProbs[b]! - logProbs[a]! || a - b,
  );
  let keep = topK === 0 ? v : topK;
  if (topP < 1) {
    let acc = 0;
    for (let r = 0; r < keep; r++) {
      acc += Math.exp(logProbs[order[r]!]!);
      if (acc >= topP) {
        keep = r + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let r = 0; r < keep; r++) total += Math.exp(logProbs[order[r]!]!);
  const u = rng.next() * total;
  let acc = 0;
  for (let r = 0; r < keep; r++) {
    acc += Math.exp(logProbs[order[r]!]!);
    if (u < acc) return order[r]!;
  }
  return order[keep - 1]!;
}
