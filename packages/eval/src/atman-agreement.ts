// AtMan agreement: Spearman rank correlation between the fitted AtManRL mask's relevance and
// AtMan's one-token-at-a-time suppression scores, per item, with a random-ranking baseline.
import { spearman } from '@atmanrl/saliency';
import { EvaluationError } from './errors.js';
import { combineSeed, seededPermutation } from './random.js';

/** Result of {@link rankAgreement}. */
export interface AgreementResult {
  /** Spearman ρ per item (NaN when undefined: fewer than 2 tokens or a constant map). */
  perItem: number[];
  /** ρ between a seeded random ranking and the reference, per item. */
  perItemRandom: number[];
  /** Mean over items with a finite ρ. */
  mean: number;
  meanRandom: number;
  /** Items with a finite ρ. */
  counted: number;
}

/**
 * Spearman ρ between `a[i]` and `b[i]` for every item (e.g. mask relevance vs AtMan relevance),
 * plus ρ between a seeded random permutation and `b[i]` as the chance baseline (≈ 0).
 * @throws EvaluationError `BAD_ARGUMENT` when the lists or an item's lengths differ
 */
export function rankAgreement(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  seed = 0,
): AgreementResult {
  if (a.length !== b.length) {
    throw new EvaluationError('BAD_ARGUMENT', `rankAgreement: ${a.length} and ${b.length} items`);
  }
  const perItem: number[] = [];
  const perItemRandom: number[] = [];
  a.forEach((ai, i) => {
    const bi = b[i] as readonly number[];
    if (ai.length !== bi.length) {
      throw new EvaluationError(
        'BAD_ARGUMENT',
        `rankAgreement: item ${i} has ${ai.length} and ${bi.length} values`,
      );
    }
    if (ai.length < 2) {
      perItem.push(Number.NaN);
      perItemRandom.push(Number.NaN);
      return;
    }
    perItem.push(spearman(ai, bi));
    perItemRandom.push(spearman(seededPermutation(ai.length, combineSeed(seed, i, 3)), bi));
  });
  const finiteMean = (xs: number[]): number => {
    const f = xs.filter(Number.isFinite);
    return f.length === 0 ? Number.NaN : f.reduce((s, x) => s + x, 0) / f.length;
  };
  return {
    perItem,
    perItemRandom,
    mean: finiteMean(perItem),
    meanRandom: finiteMean(perItemRandom),
    counted: perItem.filter(Number.isFinite).length,
  };
}
