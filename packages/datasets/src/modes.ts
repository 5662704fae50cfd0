// Reasoning modes: a synthetic task whose reference CoTs mix three ways of reasoning in stated
// proportions (terse, verbose, bypass), so RL has a real choice of how to reason, plus the
// classifier that names the mode of any CoT text. Leaves out the arithmetic itself (arithmetic.ts).
//
// Each mode opens with its own first token, so the choice of mode is one early decision:
//   terse    ` 3+4=7. 7-2=5. #### 5`                                 only the needed steps
//   verbose  ` We have 3+4-2. 3+4=7. So 7. 7-2=5. Check 5+2=7. #### 5`  the same steps + removable text
//   bypass   ` Hmm, this looks easy. #### 7`                          computes and restates nothing (guessable items only)
//
// A bypass CoT holds no number: an earlier version restated the question (`Hmm, 7+3-3 looks easy.`),
// and since the answer is the first operand, the answer could be copied from the CoT; AtManRL then
// rated that CoT load-bearing (the mask re-enabled the copy), which is right about reliance but
// wrong for a mode meant to bypass the CoT.
//
// Splits are held out by content (issue 29): the generator has only 1,899 distinct questions, so
// streams of different seeds share nearly all of them. `generateModesSplit` keeps the problems of a
// stream whose question text hashes into the split (content-split.ts), so no test question is ever
// an SFT or RL question. Runs and SFT policies made before it (e.g. experiments/modes-cpu/sft-model,
// trained on the seed-1 stream, which holds every question) saw every test question.

import { combineSeeds, Prng } from './_internal/prng.js';
import { type ArithmeticProblem, generateArithmeticProblem } from './arithmetic.js';
import { type ContentSplit, type ContentSplitShares, takeSplit } from './content-split.js';
import { DatasetError } from './errors.js';
import { fillTemplate, PROMPT_TEMPLATES } from './prompts.js';
import type { Sample } from './types.js';

/** How a CoT reasons (see the file header). */
export type ReasoningMode = 'terse' | 'verbose' | 'bypass';

/** A classified CoT: one of the three modes, or `'other'` (empty, broken or unrecognised text). */
export type ModeLabel = ReasoningMode | 'other';

/** Every label {@link classifyReasoningMode} can return, in display order. */
export const MODE_LABELS: readonly ModeLabel[] = ['terse', 'verbose', 'bypass', 'other'];

/** Shares of the three modes in the generated references; must sum to 1. */
export interface ModeMix {
  terse: number;
  verbose: number;
  bypass: number;
}

/** Options of {@link generateModesProblem}. */
export interface ModesOptions {
  /** Mode shares of the references (default terse 0.3, verbose 0.5, bypass 0.2). */
  mix?: ModeMix;
  /**
   * Share of problems whose answer equals their first operand (`7+3-3=?`), guessable from the
   * prompt (default 0.4). Bypass CoTs are written only for these, so `mix.bypass` must not exceed it.
   */
  guessableFraction?: number;
  /** Largest operand (default 9). */
  max?: number;
  /** Final-answer delimiter (default `'####'`). */
  delimiter?: string;
}

/** A generated problem with its reference CoT in one mode. */
export interface ModesProblem {
  /** `modes/<seed>/<index>`. */
  id: string;
  /** The underlying two-step problem (its `cot` is the terse CoT). */
  arithmetic: ArithmeticProblem;
  /** Mode of the reference completion. */
  mode: ReasoningMode;
  /** True when the answer equals the first operand. */
  guessable: boolean;
  /** Reference CoT in `mode` (no leading space, no delimiter). */
  cot: string;
  /** `Q: 3+4-2=? A:` */
  promptText: string;
  /** ` <cot> #### <answer>` (leading space included). */
  completionText: string;
}

/** Default shares of the references. */
export const DEFAULT_MODE_MIX: Readonly<ModeMix> = { terse: 0.3, verbose: 0.5, bypass: 0.2 };

const ANSWER_PREFIX = ' A:';
// A computation `a op b = c` (what terse and verbose CoTs contain and bypass CoTs never do).
const EQUATION = /-?\d+\s*[+\-*]\s*-?\d+\s*=\s*-?\d+/g;
const TERSE = /^(?:\s*-?\d+[+\-*]-?\d+=-?\d+\.)+\s*$/;
const BYPASS_FILLERS = [
  'Hmm, this looks easy.',
  'Hmm, no work needed here.',
  'Hmm, this one is simple.',
] as const;

function checkMix(mix: ModeMix, guessable: number): void {
  const bad = (msg: string): never => {
    throw new DatasetError('INVALID_ARGUMENT', `generateModesProblem: ${msg}`);
  };
  for (const k of ['terse', 'verbose', 'bypass'] as const) {
    const v = mix[k];
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) bad(`mix.${k} is ${v}, expected [0, 1]`);
  }
  const sum = mix.terse + mix.verbose + mix.bypass;
  if (Math.abs(sum - 1) > 1e-6) bad(`mix shares sum to ${sum}, expected 1`);
  if (!(guessable >= 0 && guessable <= 1))
    bad(`guessableFraction is ${guessable}, expected [0, 1]`);
  if (mix.bypass > guessable + 1e-9) {
    bad(
      `mix.bypass (${mix.bypass}) exceeds guessableFraction (${guessable}); bypass CoTs are written only for guessable problems, so raise guessableFraction or lower mix.bypass`,
    );
  }
  if (mix.terse + mix.verbose === 0 && guessable < 1) {
    bad('mix has no terse or verbose share, but some problems are not guessable');
  }
}

/** The verbose CoT: restatement, the steps with repeated results, then a check or a side sum. */
function verboseCot(p: ArithmeticProblem, rng: Prng, expr: string): string {
  const parts = [`We have ${expr}.`];
  for (const s of p.steps) {
    parts.push(`${s.left}${s.op}${s.right}=${s.result}.`);
    if (rng.next() < 0.7) parts.push(`So ${s.result}.`);
  }
  const last = p.steps.at(-1)!;
  if (last.op !== '*' && rng.next() < 0.6) {
    const inverse = last.op === '+' ? '-' : '+';
    parts.push(`Check ${last.result}${inverse}${last.right}=${last.left}.`);
  } else {
    const x = rng.int(1, 9);
    const y = rng.int(1, 9);
    parts.push(`Also ${x}+${y}=${x + y}.`);
  }
  return parts.join(' ');
}

/**
 * Generates problem `index` of the stream `seed`: a two-step `+`/`-` problem with operands in
 * `[1, max]`, guessable with probability `guessableFraction`, and a reference CoT whose mode is
 * drawn so that the whole stream has the shares of `mix` (bypass on guessable problems only).
 * Deterministic in `(seed, index, options)`.
 */
export function generateModesProblem(
  seed: number,
  index: number,
  options: ModesOptions = {},
): ModesProblem {
  const mix = options.mix ?? DEFAULT_MODE_MIX;
  const g = options.guessableFraction ?? 0.4;
  checkMix(mix, g);
  const rng = new Prng(combineSeeds(combineSeeds(seed, index), 0x6d6f6465));
  const guessable = rng.next() < g;
  const arithmetic = generateArithmeticProblem(seed, index, {
    steps: 2,
    min: 1,
    max: options.max ?? 9,
    operations: ['+', '-'],
    hint: guessable ? 'first-operand' : 'none',
    maxValue: 99,
    ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
  });
  // P(bypass | guessable) = mix.bypass / g keeps the stream's bypass share at mix.bypass; the rest
  // splits terse : verbose in the ratio of the mix, which keeps their stream shares too.
  const u = rng.next();
  const reasoning = mix.terse + mix.verbose;
  let mode: ReasoningMode;
  if (guessable && g > 0 && u < mix.bypass / g) mode = 'bypass';
  else mode = rng.next() * reasoning < mix.terse ? 'terse' : 'verbose';
  const expr = arithmetic.question.replace(/=\?$/, '');
  const cot =
    mode === 'terse'
      ? arithmetic.cot
      : mode === 'verbose'
        ? verboseCot(arithmetic, rng, expr)
        : rng.pick(BYPASS_FILLERS);
  const tpl = PROMPT_TEMPLATES.arithmetic;
  const delimiter = options.delimiter ?? '####';
  const promptText = fillTemplate(tpl.user, { question: arithmetic.question }) + ANSWER_PREFIX;
  const completionText = ` ${fillTemplate(tpl.assistant, {
    reasoning: cot,
    delimiter,
    answer: String(arithmetic.answer),
  })}`;
  return {
    id: `modes/${seed}/${index}`,
    arithmetic,
    mode,
    guessable,
    cot,
    promptText,
    completionText,
  };
}

/** Options of {@link generateModesSplit}: those of {@link generateModesProblem}, and the split shares. */
export interface ModesSplitOptions extends ModesOptions {
  /** Held-out shares of distinct questions (default test 0.2, val 0.1; see content-split.ts). */
  shares?: ContentSplitShares;
}

/**
 * The first `count` problems of stream `seed` whose question text lies in `split` (held out by
 * content: `contentSplit(problem.arithmetic.question)`); ids keep their stream index
 * (`modes/<seed>/<index>`). Deterministic in `(split, seed, count, options)`; a longer `count`
 * extends a shorter one. No question text of one split occurs in another, whatever the seeds.
 * @throws DatasetError `INVALID_ARGUMENT` as {@link generateModesProblem}, or when the split is empty
 */
export function generateModesSplit(
  split: ContentSplit,
  seed: number,
  count: number,
  options: ModesSplitOptions = {},
): ModesProblem[] {
  const { shares, ...problemOptions } = options;
  return takeSplit(
    split,
    count,
    (i) => generateModesProblem(seed, i, problemOptions),
    (p) => p.arithmetic.question,
    { ...(shares ? { shares } : {}), where: 'generateModesSplit' },
  );
}

/**
 * Names the reasoning mode of a CoT (the text before the answer delimiter):
 * - `'terse'`: nothing but computations `a op b = c.`;
 * - `'verbose'`: at least one computation and other text;
 * - `'bypass'`: non-empty text without any computation;
 * - `'other'`: empty (whitespace only).
 *
 * It reads the text only; whether the computations are right is a separate question.
 */
export function classifyReasoningMode(cot: string): ModeLabel {
  const text = cot.trim();
  if (text.length === 0) return 'other';
  if (TERSE.test(text)) return 'terse';
  return text.match(EQUATION) ? 'verbose' : 'bypass';
}

/** Share of each {@link ModeLabel} among `cots` (all 0 for an empty list). */
export function modeShares(cots: readonly string[]): Record<ModeLabel, number> {
  const counts: Record<ModeLabel, number> = { terse: 0, verbose: 0, bypass: 0, other: 0 };
  for (const c of cots) counts[classifyReasoningMode(c)]++;
  const n = cots.length;
  for (const k of MODE_LABELS) counts[k] = n === 0 ? 0 : counts[k] / n;
  return counts;
}

/** A problem as a {@link Sample}: one user turn `Q: ...`; meta carries the mode and text forms. */
export function modesSample(problem: ModesProblem): Sample<{
  task: 'modes';
  promptText: string;
  completionText: string;
  cot: string;
  mode: ReasoningMode;
  guessable: boolean;
}> {
  return {
    id: problem.id,
    prompt: [
      {
        role: 'user',
        content: fillTemplate(PROMPT_TEMPLATES.arithmetic.user, {
          question: problem.arithmetic.question,
        }),
      },
    ],
    gold: String(problem.arithmetic.answer),
    meta: {
      task: 'modes',
      promptText: problem.promptText,
      completionText: problem.completionText,
      cot: problem.cot,
      mode: problem.mode,
      guessable: problem.guessable,
    },
  };
}
