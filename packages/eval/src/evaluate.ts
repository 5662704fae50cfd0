// The evaluation runner: generate completions for a dataset split (fixed seed, item limit), score
// accuracy, run the faithfulness probes on the greedy completions, and assemble the report.
// Leaves out writing files (the trainer writes `eval/<name>.json` through @atmanrl/runs).
import {
  type AnswerKind,
  answerRule,
  DEFAULT_DELIMITER,
  MODES_CLASSIFIER,
  type ReasoningModeClassifier,
  type Sample,
  type Task,
} from '@atmanrl/datasets';
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import type { EvalCurve, EvalReport, EvalSampleRecord, WithoutVersion } from '@atmanrl/runs';
import {
  atmanSaliency,
  type FitSaliencyOptions,
  fitSaliencyMasks,
  type SaliencyItem,
  type SweepOptions,
  saliencyItemFromSpans,
  splitCompletionIds,
} from '@atmanrl/saliency';
import { type AccuracyMetrics, accuracyMetrics, type ScoredCompletion } from './accuracy.js';
import { addingMistakes } from './adding-mistakes.js';
import { rankAgreement } from './atman-agreement.js';
import { earlyAnswering } from './early-answering.js';
import { EvaluationError } from './errors.js';
import { fillerTokens } from './filler-tokens.js';
import { type CotItem, type ProbeOptions, requireTokenizer } from './probe.js';
import { combineSeed, seededPermutation } from './random.js';
import { buildEvalReport, reportMarkdown } from './report.js';
import { saliencyQuality } from './saliency-quality.js';
import { mean, standardError } from './stats.js';

/** Which measurements {@link evaluate} runs (accuracy always runs). */
export interface EvalMetricsSelection {
  earlyAnswering?: boolean;
  addingMistakes?: boolean;
  filler?: boolean;
  /** ERASER + deletion/insertion with the fitted AtManRL mask. */
  saliency?: boolean;
  /** Spearman between the fitted mask and AtMan (needs `saliency`'s mask fit). */
  atmanAgreement?: boolean;
  /**
   * Only the mask statistic: fit the masks and report `saliency/mask_h` (mean H over the greedy
   * CoTs) and `saliency/mask_h_se`, without the ERASER curves (implied by `saliency`).
   */
  maskStatistic?: boolean;
}

/** A progress event of {@link evaluate}. */
export interface EvalProgress {
  stage:
    | 'generate'
    | 'early_answering'
    | 'adding_mistakes'
    | 'filler'
    | 'saliency'
    | 'atman_agreement'
    | 'done';
  done: number;
  total: number;
}

/** Items per mask-fit batch when `saliencyFit.maxBatchSize` is not given. */
const EVAL_FIT_BATCH = 64;

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Report name (default `'eval'`). */
  name?: string;
  /** Model identifier stored in the report (default `'model'`). */
  modelName?: string;
  /** Dataset identity stored in the report (default `{ name: 'dataset', split: 'test' }`). */
  dataset?: { name: string; split: string };
  /** Training step the model comes from, stored in the report. */
  step?: number;
  /** Seed of item selection, sampling and every random baseline (default 0). */
  seed?: number;
  /** Evaluate at most this many items (default all). */
  limit?: number;
  /** Pick the `limit` items by a seeded shuffle instead of the first ones (default false). */
  shuffle?: boolean;
  /**
   * The task whose answer rule splits and judges every completion (datasets' `Task`; its `kind`
   * and `delimiter` then apply). Default: datasets' `answerRule(kind, delimiter)`.
   */
  task?: Pick<Task, 'kind' | 'delimiter' | 'split' | 'judge'>;
  /** Answer kind (default `'number'`; `task.kind` when a task is given). */
  kind?: AnswerKind;
  /** Final-answer delimiter (default `'####'`; `task.delimiter` when a task is given). */
  delimiter?: string;
  /** Prompt token ids of a sample (default: the tokenizer's chat template with a generation prompt). */
  encodePrompt?: (sample: Sample) => number[];
  /** Max generated tokens per completion (default 256). */
  maxNewTokens?: number;
  /** k values of pass@k (default [1, 4]). */
  passK?: number[];
  /** Sampled completions per item for pass@k (default max(passK)). */
  numSamples?: number;
  /** Sampling temperature for pass@k (default 1; 0 = greedy copies). */
  temperature?: number;
  /** Prompts per generate call (default 16). */
  batchSize?: number;
  /** Tokens decoded when forcing an answer (default 8). */
  maxAnswerTokens?: number;
  /** Which probes run (default: all). */
  metrics?: EvalMetricsSelection;
  /**
   * Options of the AtManRL mask fit used by the saliency measures. Its `maxBatchSize` defaults to
   * 64 (items are independent), so memory does not grow with the number of items.
   */
  saliencyFit?: FitSaliencyOptions;
  /** Options of the AtMan sweep. */
  atman?: SweepOptions;
  /** Filler unit (default `' .'`). */
  fillerText?: string;
  /** Keep per-item details in the report (default true). */
  includeItems?: boolean;
  /**
   * Classify every CoT's reasoning mode and report mode shares and per-mode accuracy (and store
   * each completion's mode in `samples`): `true` = datasets' `classifyReasoningMode` (the modes
   * task, `MODES_CLASSIFIER`), or a task's own `{ labels, classify(sample, cot) }` (e.g.
   * `HINT_MODES_CLASSIFIER`, or `task.modes`); default false.
   */
  reasoningModes?: boolean | ReasoningModeClassifier;
  tokenizer?: Tokenizer;
  onProgress?: (event: EvalProgress) => void;
}

/**
 * Result of {@link evaluate}: the validated report, its Markdown table, the accuracy numbers and
 * every generated completion (`samples`: per item its greedy completion, then its sampled ones),
 * from which the report's `pass@k`, `cot_tokens/*` and `modes/*` can be recomputed (store them
 * with `@atmanrl/runs/node`'s `writeEvalSamples`).
 */
export interface EvaluateResult {
  report: EvalReport;
  markdown: string;
  accuracy: AccuracyMetrics;
  samples: WithoutVersion<EvalSampleRecord>[];
}

function defaultEncodePrompt(tok: Tokenizer): (s: Sample) => number[] {
  return (s) =>
    tok.encode(tok.applyChatTemplate(s.prompt, { addGenerationPrompt: true }), {
      addSpecialTokens: false,
    });
}

/**
 * Evaluates `model` on `samples`: accuracy (pass@k over `numSamples` sampled completions, greedy
 * accuracy, parse rates, CoT length, truncation) and, on each item's greedy completion, the
 * faithfulness probes (early answering, adding mistakes, filler tokens, ERASER and
 * deletion/insertion with the fitted mask, AtMan agreement), each with its baseline.
 * Deterministic for a fixed `seed`. Progress goes to `onProgress`; nothing is logged.
 */
export async function evaluate(
  model: CausalLM,
  samples: readonly Sample[],
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  checkOptionKeys(options);
  const tok = requireTokenizer(model, options.tokenizer, 'evaluate');
  const seed = options.seed ?? 0;
  const kind = options.task?.kind ?? options.kind ?? 'number';
  const delimiter = options.task?.delimiter ?? options.delimiter ?? DEFAULT_DELIMITER;
  const rule = options.task ?? answerRule(kind, delimiter);
  const modes: ReasoningModeClassifier | null =
    options.reasoningModes === true ? MODES_CLASSIFIER : options.reasoningModes || null;
  const passK = options.passK ?? [1, 4];
  const numSamples = options.numSamples ?? Math.max(...passK);
  const batchSize = options.batchSize ?? 16;
  const maxNewTokens = options.maxNewTokens ?? 256;
  const temperature = options.temperature ?? 1;
  const sel: Required<EvalMetricsSelection> = {
    earlyAnswering: true,
    addingMistakes: true,
    filler: true,
    saliency: true,
    atmanAgreement: true,
    maskStatistic: false,
    ...options.metrics,
  };
  if (!Number.isInteger(numSamples) || numSamples < Math.max(...passK)) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `evaluate: numSamples ${numSamples} must be an integer >= max(passK) = ${Math.max(...passK)}`,
    );
  }
  const progress = options.onProgress ?? (() => {});
  // 1. Select items.
  const order = options.shuffle
    ? seededPermutation(samples.length, combineSeed(seed, 0))
    : samples.map((_, i) => i);
  const chosen = order.slice(0, options.limit ?? samples.length).map((i) => samples[i] as Sample);
  const encodePrompt = options.encodePrompt ?? defaultEncodePrompt(tok);
  const prompts = chosen.map((s) => encodePrompt(s));

  // 2. Generate: one greedy completion per item (for the probes) + numSamples samples (pass@k).
  const jobs: { item: number; greedy: boolean }[] = [];
  chosen.forEach((_, i) => {
    jobs.push({ item: i, greedy: true });
    if (temperature > 0) for (let j = 0; j < numSamples; j++) jobs.push({ item: i, greedy: false });
  });
  type Generated = { text: string; truncated: boolean; tokenIds: number[] };
  const texts: Generated[] = [];
  for (let s = 0; s < jobs.length; s += batchSize) {
    const chunk = jobs.slice(s, s + batchSize);
    const greedy = chunk.filter((j) => j.greedy);
    const sampled = chunk.filter((j) => !j.greedy);
    const out = new Map<(typeof chunk)[number], Generated>();
    if (greedy.length > 0) {
      const r = await model.generate(
        greedy.map((j) => prompts[j.item] as number[]),
        { maxNewTokens, temperature: 0 },
      );
      greedy.forEach((j, k) => {
        out.set(j, r[k] as Generated);
      });
    }
    if (sampled.length > 0) {
      const r = await model.generate(
        sampled.map((j) => prompts[j.item] as number[]),
        {
          maxNewTokens,
          temperature,
          seed: combineSeed(seed, s, 4),
        },
      );
      sampled.forEach((j, k) => {
        out.set(j, r[k] as Generated);
      });
    }
    for (const j of chunk) texts.push(out.get(j) as Generated);
    progress({ stage: 'generate', done: Math.min(s + batchSize, jobs.length), total: jobs.length });
  }
  // Each completion is judged and split once, by the task's rule (the one training uses).
  const score = (i: number, g: Generated) => {
    const { correct, split } = rule.judge(g.text, (chosen[i] as Sample).gold);
    const spans = splitCompletionIds(tok, g.tokenIds, split);
    const mode: string | null = modes
      ? modes.classify(chosen[i] as Sample, g.text.slice(split.cotRange[0], split.cotRange[1]))
      : null;
    return {
      split,
      spans,
      mode,
      correct,
      isStrict: split.isStrict && split.parsedAnswer !== null,
      hasAnswer: split.parsedAnswer !== null,
      cotTokens: spans.cotEnd,
      truncated: g.truncated,
    };
  };
  const greedyScored: ReturnType<typeof score>[] = [];
  const sampledScored: ReturnType<typeof score>[][] = chosen.map(() => []);
  const cotItems: CotItem[] = [];
  const salItems: SaliencyItem[] = [];
  const records: WithoutVersion<EvalSampleRecord>[] = [];
  jobs.forEach((job, j) => {
    const g = texts[j] as Generated;
    const sc = score(job.item, g);
    const sample = chosen[job.item] as Sample;
    records.push({
      itemId: sample.id,
      itemIndex: job.item,
      kind: job.greedy ? 'greedy' : 'sample',
      sampleIndex: job.greedy ? 0 : (sampledScored[job.item] as ScoredCompletion[]).length,
      gold: sample.gold,
      completionIds: [...g.tokenIds],
      completion: g.text,
      parsedAnswer: sc.split.parsedAnswer,
      correct: sc.correct,
      isStrict: sc.isStrict,
      truncated: g.truncated,
      cotTokens: sc.cotTokens,
      ...(sc.mode === null ? {} : { mode: sc.mode }),
    });
    if (!job.greedy) {
      (sampledScored[job.item] as ScoredCompletion[]).push(sc);
      return;
    }
    greedyScored.push(sc);
    if (temperature <= 0)
      for (let k = 0; k < numSamples; k++) (sampledScored[job.item] as ScoredCompletion[]).push(sc);
    const cot = g.text.slice(sc.split.cotRange[0], sc.split.cotRange[1]);
    const at = g.text.indexOf(delimiter);
    const answerPrefix =
      at >= 0 ? g.text.slice(sc.split.cotRange[1], at + delimiter.length) : ` ${delimiter}`;
    const answerGap =
      at >= 0 && sc.split.answerRange
        ? g.text.slice(at + delimiter.length, sc.split.answerRange[0])
        : ' ';
    if (cot.trim() !== '') {
      cotItems.push({
        id: sample.id,
        promptIds: prompts[job.item] as number[],
        cot,
        answerPrefix,
        answerGap: answerGap || ' ',
        gold: sample.gold,
      });
      salItems.push(
        saliencyItemFromSpans(tok, prompts[job.item] as number[], sc.spans, sample.gold, delimiter),
      );
    }
  });
  const accuracy = accuracyMetrics(sampledScored, passK);
  const greedyAcc = accuracyMetrics(
    greedyScored.map((s) => [s]),
    [1],
  );

  const summary: Record<string, number | null> = {};
  for (const k of passK) summary[`pass@${k}`] = accuracy.passAtK[k] ?? null;
  Object.assign(summary, {
    accuracy_greedy: greedyAcc.accuracy,
    'parse/strict_rate': accuracy.strictParseRate,
    'parse/fallback_rate': accuracy.fallbackParseRate,
    'parse/unparsed_rate': accuracy.unparsedRate,
    'cot_tokens/mean': accuracy.cotTokensMean,
    'cot_tokens/median': accuracy.cotTokensMedian,
    'cot_tokens/p90': accuracy.cotTokensP90,
    truncation_rate: accuracy.truncationRate,
    items: chosen.length,
    items_with_cot: cotItems.length,
    ...standardErrors(sampledScored),
    ...(modes ? modeSummary(modes.labels, sampledScored, greedyScored) : {}),
  });
  const curves: EvalCurve[] = [];
  const details: Record<string, unknown> = {};
  const probe: ProbeOptions = {
    kind,
    delimiter,
    maxAnswerTokens: options.maxAnswerTokens,
    batchSize,
    seed,
    tokenizer: tok,
  };

  // 3. Faithfulness probes on the greedy CoTs.
  if (sel.earlyAnswering) {
    progress({ stage: 'early_answering', done: 0, total: cotItems.length });
    const r = await earlyAnswering(model, cotItems, probe);
    summary['early_answering/aoc'] = r.aoc;
    summary['early_answering/aoc_random'] = r.baselineAoc;
    curves.push(r.curve);
    details['early_answering'] = r.items;
  }
  if (sel.addingMistakes) {
    progress({ stage: 'adding_mistakes', done: 0, total: cotItems.length });
    const r = await addingMistakes(model, cotItems, probe);
    summary['adding_mistakes/aoc'] = r.aoc;
    summary['adding_mistakes/aoc_baseline'] = r.baselineAoc;
    summary['adding_mistakes/skipped'] = r.skipped;
    curves.push(r.curve);
    details['adding_mistakes'] = r.items;
  }
  if (sel.filler) {
    progress({ stage: 'filler', done: 0, total: cotItems.length });
    const r = await fillerTokens(model, cotItems, { ...probe, fillerText: options.fillerText });
    Object.assign(summary, {
      'filler/full_cot_accuracy': r.fullAccuracy,
      'filler/filler_accuracy': r.fillerAccuracy,
      'filler/no_cot_accuracy': r.noCotAccuracy,
      'filler/accuracy_drop': r.accuracyDrop,
      'filler/same_answer': r.fillerSameAnswer,
    });
    details['filler'] = r.items;
  }
  if (sel.saliency || sel.atmanAgreement || sel.maskStatistic) {
    progress({ stage: 'saliency', done: 0, total: salItems.length });
    const masks =
      salItems.length === 0
        ? []
        : await fitSaliencyMasks(model, salItems, {
            maxBatchSize: EVAL_FIT_BATCH,
            ...options.saliencyFit,
          });
    const relevance = masks.map((m) => m.relevance);
    summary['saliency/mask_h'] = masks.length === 0 ? null : mean(masks.map((m) => m.h));
    summary['saliency/mask_h_se'] = nullIfNaN(standardError(masks.map((m) => m.h)));
    if (sel.saliency) {
      const r = await saliencyQuality(model, salItems, relevance, {
        seed,
        batchSize,
        onItem: (done, total) => progress({ stage: 'saliency', done, total }),
      });
      Object.assign(summary, {
        'saliency/comprehensiveness': r.comprehensiveness,
        'saliency/comprehensiveness_random': r.comprehensivenessRandom,
        'saliency/sufficiency': r.sufficiency,
        'saliency/sufficiency_random': r.sufficiencyRandom,
        'saliency/deletion_auc': r.deletionAuc,
        'saliency/deletion_auc_random': r.deletionAucRandom,
        'saliency/insertion_auc': r.insertionAuc,
        'saliency/insertion_auc_random': r.insertionAucRandom,
      });
      curves.push(...r.curves);
      details['saliency'] = r.items;
    }
    if (sel.atmanAgreement) {
      progress({ stage: 'atman_agreement', done: 0, total: salItems.length });
      const atman =
        salItems.length === 0 ? [] : await atmanSaliency(model, salItems, options.atman);
      const r = rankAgreement(
        relevance,
        atman.map((a) => a.relevance),
        seed,
      );
      summary['atman_agreement/spearman'] = r.mean;
      summary['atman_agreement/spearman_random'] = r.meanRandom;
      summary['atman_agreement/items'] = r.counted;
      details['atman_agreement'] = { perItem: r.perItem, perItemRandom: r.perItemRandom };
    }
  }
  progress({ stage: 'done', done: chosen.length, total: chosen.length });
  const items =
    options.includeItems === false
      ? undefined
      : chosen.map((s, i) => ({
          id: s.id,
          gold: s.gold,
          completion: (texts[jobs.findIndex((j) => j.item === i && j.greedy)] as { text: string })
            .text,
          parsedAnswer: greedyScored[i]?.split.parsedAnswer ?? null,
          correct: greedyScored[i]?.correct ?? false,
        }));
  const report = buildEvalReport({
    name: options.name ?? 'eval',
    model: options.modelName ?? 'model',
    dataset: {
      ...(options.dataset ?? { name: 'dataset', split: 'test' }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      seed,
    },
    ...(options.step === undefined ? {} : { step: options.step }),
    summary,
    curves,
    ...(items === undefined ? {} : { items: [...items, { probes: details }] }),
  });
  return { report, markdown: reportMarkdown(report), accuracy, samples: records };
}

type Scored = ScoredCompletion & { mode: string | null };

const nullIfNaN = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Standard errors with the item as the unit (samples of one item are correlated): `pass@1_se`
 * of the per-item mean accuracy over the sampled completions, `cot_tokens/mean_se` likewise.
 */
function standardErrors(sampled: readonly (readonly Scored[])[]): Record<string, number | null> {
  const items = sampled.filter((s) => s.length > 0);
  return {
    'pass@1_se': nullIfNaN(
      standardError(items.map((s) => mean(s.map((c) => (c.correct ? 1 : 0))))),
    ),
    'cot_tokens/mean_se': nullIfNaN(
      standardError(items.map((s) => mean(s.map((c) => c.cotTokens)))),
    ),
  };
}

/**
 * Reasoning-mode shares of the sampled completions (`modes/<label>`, with `modes/<label>_se` over
 * items), of the greedy ones (`modes_greedy/<label>`), and the sampled accuracy within each mode
 * (`mode_accuracy/<label>`, null when a mode never occurs).
 */
function modeSummary(
  labels: readonly string[],
  sampled: readonly (readonly Scored[])[],
  greedy: readonly Scored[],
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const all = sampled.flat();
  const items = sampled.filter((s) => s.length > 0);
  for (const label of labels) {
    const inMode = all.filter((c) => c.mode === label);
    out[`modes/${label}`] = all.length === 0 ? null : inMode.length / all.length;
    out[`modes/${label}_se`] = nullIfNaN(
      standardError(items.map((s) => mean(s.map((c) => (c.mode === label ? 1 : 0))))),
    );
    out[`modes_greedy/${label}`] =
      greedy.length === 0 ? null : greedy.filter((c) => c.mode === label).length / greedy.length;
    out[`mode_accuracy/${label}`] =
      inMode.length === 0 ? null : inMode.filter((c) => c.correct).length / inMode.length;
  }
  return out;
}

/** Every key {@link EvaluateOptions} has (an unknown key is a typo, not a silent default). */
const EVALUATE_KEYS: readonly (keyof EvaluateOptions)[] = [
  'name',
  'modelName',
  'dataset',
  'step',
  'seed',
  'limit',
  'shuffle',
  'task',
  'kind',
  'delimiter',
  'encodePrompt',
  'maxNewTokens',
  'passK',
  'numSamples',
  'temperature',
  'batchSize',
  'maxAnswerTokens',
  'metrics',
  'saliencyFit',
  'atman',
  'fillerText',
  'includeItems',
  'reasoningModes',
  'tokenizer',
  'onProgress',
];
const METRIC_KEYS: readonly (keyof EvalMetricsSelection)[] = [
  'earlyAnswering',
  'addingMistakes',
  'filler',
  'saliency',
  'atmanAgreement',
  'maskStatistic',
];

function checkOptionKeys(options: EvaluateOptions): void {
  const unknown = (given: object, known: readonly string[], where: string) => {
    for (const key of Object.keys(given)) {
      if (!known.includes(key)) {
        throw new EvaluationError(
          'BAD_ARGUMENT',
          `evaluate: unknown option ${where}${key}; known options: ${known.join(', ')}`,
        );
      }
    }
  };
  unknown(options, EVALUATE_KEYS, '');
  if (options.metrics) unknown(options.metrics, METRIC_KEYS, 'metrics.');
}
