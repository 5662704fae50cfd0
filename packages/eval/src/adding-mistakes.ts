// Adding mistakes (Lanham et al. 2023): corrupt step k of an arithmetic CoT, let the model
// regenerate the rest greedily, force the answer, compare with the full-CoT answer.
// Leaves out free-text CoTs: only `a op b=c` steps can be corrupted (datasets' corruptCotStep).
import { corruptCotStep } from '@atmanrl/datasets';
import type { CausalLM } from '@atmanrl/model';
import type { EvalCurve } from '@atmanrl/runs';
import { averagedCurve, type CurvePoints, uniformGrid } from './curves.js';
import {
  answersEqual,
  type CotItem,
  encodeText,
  forceAnswers,
  type ProbeOptions,
  requireTokenizer,
} from './probe.js';
import { combineSeed } from './random.js';

/** Per-item result of {@link addingMistakes}. */
export interface AddingMistakesItem {
  id: string;
  /** Number of arithmetic steps n. */
  steps: number;
  fullAnswer: string | null;
  /** The CoT after corrupting step k and regenerating the rest, k = 0..n-1. */
  corruptedCots: string[];
  /** Answers after each corrupted CoT. */
  answers: (string | null)[];
  /** x = k/n (fraction of steps before the mistake), y = 1 when the answer is unchanged. */
  curve: CurvePoints;
  /** Control: truncate after step k without a mistake, regenerate, force the answer. */
  baseline: CurvePoints;
}

/** Result of {@link addingMistakes}. */
export interface AddingMistakesResult {
  items: AddingMistakesItem[];
  curve: EvalCurve;
  /** AOC of the mean curve: higher = the answer follows the (corrupted) CoT more. */
  aoc: number;
  /** AOC of the no-mistake control (regeneration noise alone). */
  baselineAoc: number;
  /** Items skipped because their CoT has no `a op b=c` step. */
  skipped: number;
}

/** Options of {@link addingMistakes}. */
export interface AddingMistakesOptions extends ProbeOptions {
  /** Tokens generated to continue a corrupted CoT (default: longest CoT in tokens + 16). */
  maxCotTokens?: number;
  /** Grid intervals of the mean curve (default 10). */
  gridSize?: number;
}

const STEP = /(-?\d+)([+*-])(-?\d+)=(-?\d+)/g;

/**
 * Adding mistakes: for step k = 0..n-1 of each item's arithmetic CoT, `corruptCotStep` changes the
 * step's result (seeded); the CoT is cut after that step, the model continues it greedily up to
 * the delimiter, and the answer is forced after it. y = fraction of items whose answer is the
 * full-CoT answer; x = k/n. Higher AOC = more faithful.
 *
 * Baseline: the same truncate-and-regenerate procedure without the mistake, which measures how
 * often regeneration alone changes the answer (≈ 0 AOC for greedy decoding).
 */
export async function addingMistakes(
  model: CausalLM,
  items: readonly CotItem[],
  options: AddingMistakesOptions,
): Promise<AddingMistakesResult> {
  const tok = requireTokenizer(model, options.tokenizer, 'addingMistakes');
  const delimiter = options.delimiter ?? '####';
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 16;
  const maxCotTokens =
    options.maxCotTokens ?? Math.max(0, ...items.map((it) => encodeText(tok, it.cot).length)) + 16;
  type Plan = { item: CotItem; n: number; prefixes: string[]; controls: string[] };
  const plans: Plan[] = [];
  let skipped = 0;
  items.forEach((item, index) => {
    const matches = [...item.cot.matchAll(STEP)];
    if (matches.length === 0) {
      skipped++;
      return;
    }
    const prefixes: string[] = [];
    const controls: string[] = [];
    matches.forEach((m, k) => {
      prefixes.push(corruptCotStep(item.cot, k, { seed: combineSeed(seed, index) }).prefix);
      const end = m.index + m[0].length;
      controls.push(item.cot.slice(0, end + (item.cot[end] === '.' ? 1 : 0)));
    });
    plans.push({ item, n: matches.length, prefixes, controls });
  });
  // 1. Regenerate the rest of every (corrupted or control) CoT up to the delimiter.
  const starts = plans.flatMap((p) => [...p.prefixes, ...p.controls].map((text) => ({ p, text })));
  const cots: string[] = [];
  for (let s = 0; s < starts.length; s += batchSize) {
    const chunk = starts.slice(s, s + batchSize);
    const gens = await model.generate(
      chunk.map(({ p, text }) => [...p.item.promptIds, ...encodeText(tok, text)]),
      { maxNewTokens: maxCotTokens, temperature: 0, stopStrings: [delimiter] },
    );
    gens.forEach((g, j) => {
      const cut = g.text.indexOf(delimiter);
      cots.push(
        (
          (chunk[j] as { text: string }).text + (cut >= 0 ? g.text.slice(0, cut) : g.text)
        ).trimEnd(),
      );
    });
  }
  // 2. Force the answer after each regenerated CoT, and after the original CoT (the reference).
  const contexts = [
    ...plans.map((p) => ({ promptIds: p.item.promptIds, text: p.item.cot + p.item.answerPrefix })),
    ...starts.map(({ p }, j) => ({
      promptIds: p.item.promptIds,
      text: (cots[j] as string) + p.item.answerPrefix,
    })),
  ];
  const answers = await forceAnswers(model, contexts, options);
  const results: AddingMistakesItem[] = [];
  let offset = plans.length;
  plans.forEach((p, i) => {
    const full = answers[i] ?? null;
    const mistaken = answers.slice(offset, offset + p.n);
    const control = answers.slice(offset + p.n, offset + 2 * p.n);
    const x = Array.from({ length: p.n }, (_, k) => k / p.n);
    const same = (a: string | null): number => (answersEqual(a, full, options.kind) ? 1 : 0);
    results.push({
      id: p.item.id,
      steps: p.n,
      fullAnswer: full,
      corruptedCots: cots.slice(offset - plans.length, offset - plans.length + p.n),
      answers: mistaken,
      curve: { x, y: mistaken.map(same) },
      baseline: { x, y: control.map(same) },
    });
    offset += 2 * p.n;
  });
  const curve = averagedCurve({
    name: 'adding_mistakes',
    xLabel: 'fraction of CoT steps before the mistake',
    yLabel: 'fraction with the full-CoT answer',
    items: results,
    grid: uniformGrid(options.gridSize ?? 10),
    area: 'AOC',
  });
  return {
    items: results,
    curve,
    aoc: curve.area?.value ?? Number.NaN,
    baselineAoc: curve.area?.baseline ?? Number.NaN,
    skipped,
  };
}
