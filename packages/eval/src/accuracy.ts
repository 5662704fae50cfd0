// Accuracy metrics from already-parsed completions: pass@k, strict/fallback parse rates, CoT
// length statistics and truncation rate. Leaves out generation and parsing (the runner does it).
import { EvaluationError } from './errors.js';
import { meanPassAtK } from './pass-at-k.js';
import { mean, median, quantile } from './stats.js';

/** One scored completion. */
export interface ScoredCompletion {
  /** The parsed answer equals the gold answer. */
  correct: boolean;
  /** An answer was parsed from the delimiter line. */
  isStrict: boolean;
  /** An answer was parsed at all (strict or fallback). */
  hasAnswer: boolean;
  /** Tokens in the CoT span. */
  cotTokens: number;
  /** Generation hit `maxNewTokens` without EOS or a stop string. */
  truncated: boolean;
}

/** Result of {@link accuracyMetrics}; rates are fractions in [0, 1]. */
export interface AccuracyMetrics {
  /** `pass@k` for every requested k (k <= samples per item). */
  passAtK: Record<number, number>;
  /** Fraction of all completions that are correct (= pass@1). */
  accuracy: number;
  /** Fraction of completions whose answer came from the delimiter line. */
  strictParseRate: number;
  /** Fraction parsed only by a fallback (no delimiter). */
  fallbackParseRate: number;
  /** Fraction with no parseable answer. */
  unparsedRate: number;
  cotTokensMean: number;
  cotTokensMedian: number;
  cotTokensP90: number;
  truncationRate: number;
}

/**
 * Accuracy metrics over items that each have the same number n of sampled completions.
 * pass@k uses the unbiased estimator per item, averaged over items.
 * @throws EvaluationError `BAD_ARGUMENT` for ragged sample counts or k > n
 */
export function accuracyMetrics(
  items: readonly (readonly ScoredCompletion[])[],
  ks: readonly number[] = [1, 4],
): AccuracyMetrics {
  const n = items[0]?.length ?? 0;
  if (items.some((c) => c.length !== n) || (items.length > 0 && n === 0)) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      'accuracyMetrics: every item needs the same non-zero number of completions',
    );
  }
  const passAtK: Record<number, number> = {};
  for (const k of ks) {
    if (items.length > 0 && k > n) {
      throw new EvaluationError(
        'BAD_ARGUMENT',
        `accuracyMetrics: pass@${k} needs at least ${k} samples per item, got ${n}`,
      );
    }
    passAtK[k] = meanPassAtK(
      items.map((c) => ({ n, c: c.filter((x) => x.correct).length })),
      k,
    );
  }
  const all = items.flat();
  const rate = (f: (c: ScoredCompletion) => boolean): number =>
    all.length === 0 ? Number.NaN : all.filter(f).length / all.length;
  const lengths = all.map((c) => c.cotTokens);
  return {
    passAtK,
    accuracy: rate((c) => c.correct),
    strictParseRate: rate((c) => c.isStrict),
    fallbackParseRate: rate((c) => c.hasAnswer && !c.isStrict),
    unparsedRate: rate((c) => !c.hasAnswer),
    cotTokensMean: mean(lengths),
    cotTokensMedian: median(lengths),
    cotTokensP90: quantile(lengths, 0.9),
    truncationRate: rate((c) => c.truncated),
  };
}
