// Named optimiser budgets of the mask fit (issue 31 item 2): the paper's 200 AdamW steps and a
// measured cheaper one. Values only: spread one into fitSaliencyMasks / createSaliencyReward's
// `fit` options. The agreement that chose `fast` is measured by
// apps/trainer/scripts/fit-budget.mjs (experiments/fit-budget/).
import { SaliencyError } from './errors.js';

/** The optimiser settings a preset fixes (the rest of the fit options keep their defaults). */
export interface FitPreset {
  /** AdamW steps (each one forward + backward pass of the frozen model). */
  readonly steps: number;
  /** Learning rate; with eps 1e-8 each θ moves about `lr` per step, so `steps × lr` bounds the reward's range. */
  readonly lr: number;
  /** AdamW betas (β1, β2). */
  readonly betas: readonly [number, number];
  /** Decoupled weight decay, as `torch.optim.AdamW`. */
  readonly weightDecay: number;
  /** AdamW eps. */
  readonly eps: number;
}

/**
 * Named mask-fit budgets.
 *
 * - `paper`: the paper's fit (method.md §2): 200 AdamW steps at lr 1e-3, betas (0.6, 0.9999),
 *   weight decay 0.05, eps 1e-8 — also `fitSaliencyMasks`' defaults.
 * - `fast`: 7 AdamW steps at lr 0.2 / 7 — the paper's total movement `steps × lr` = 0.2 — with
 *   β1 = 0 (no momentum; β2, weight decay and eps as the paper): 29× fewer passes. Each step is
 *   then `lr · g_t / RMS(g_1..t)`; with the paper's β1 = 0.6, a few large steps overshoot and
 *   agree less (10 steps at β1 0.6 fall below 0.9 on H). Measured against `paper` on temperature-1 rollouts of the modes task and of the
 *   GSM8K-format arithmetic task (apps/trainer/scripts/fit-budget.mjs, experiments/fit-budget/):
 *   Spearman ≥ 0.9 per token (median over items) and of H across items on both; the README's
 *   "Fit budget" table has the numbers.
 *
 * @example
 * ```ts
 * import { FIT_PRESETS, type FitSaliencyOptions } from '@atmanrl/saliency';
 * // Spread into fitSaliencyMasks' or createSaliencyReward's `fit` options.
 * const fit: FitSaliencyOptions = { ...FIT_PRESETS.paper };
 * console.log(fit.steps, FIT_PRESETS.fast.steps); // 200 7
 * ```
 */
export const FIT_PRESETS = {
  paper: { steps: 200, lr: 1e-3, betas: [0.6, 0.9999], weightDecay: 0.05, eps: 1e-8 },
  fast: { steps: 7, lr: 0.2 / 7, betas: [0, 0.9999], weightDecay: 0.05, eps: 1e-8 },
} as const satisfies Record<string, FitPreset>;

/** Name of a {@link FIT_PRESETS} entry. */
export type FitPresetName = keyof typeof FIT_PRESETS;

/**
 * The preset called `name` (e.g. from a config file or a CLI flag).
 * @throws SaliencyError `BAD_OPTION` naming the known presets when `name` is not one of them
 * @example
 * ```ts
 * import { fitPreset, type FitSaliencyOptions } from '@atmanrl/saliency';
 * const fit: FitSaliencyOptions = { ...fitPreset('fast'), init: -0.4 };
 * console.log(fit.steps, fit.betas); // 7 [ 0, 0.9999 ]
 * ```
 */
export function fitPreset(name: string): FitPreset {
  if (!Object.hasOwn(FIT_PRESETS, name)) {
    throw new SaliencyError(
      'BAD_OPTION',
      `fitPreset: unknown preset "${name}"; expected one of ${Object.keys(FIT_PRESETS)
        .map((k) => `"${k}"`)
        .join(', ')}.`,
    );
  }
  return FIT_PRESETS[name as FitPresetName];
}
