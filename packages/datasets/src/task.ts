// A task: dataset items as prompts + gold answers, how a prompt becomes token ids (plain text for
// the synthetic task, the model's chat template otherwise), and the one rule that splits and
// judges a completion. Training, probes and evaluation all judge through it. The browser-safe half:
// the synthetic task and the task record; file-backed tasks load in `./node` (node/task.ts).

import { type AnswerKind, DEFAULT_DELIMITER, splitCompletion } from './answer-parsing.js';
import { arithmeticSample, generateArithmeticProblem } from './arithmetic.js';
import type { ContentSplit } from './content-split.js';
import { DatasetError } from './errors.js';
import {
  classifyHintMode,
  generateHintModesProblem,
  generateHintModesSplit,
  HINT_MODE_LABELS,
  type HintModesProblem,
  hintModesSample,
} from './hint-modes.js';
import {
  classifyReasoningMode,
  DEFAULT_MODE_MIX,
  generateModesProblem,
  generateModesSplit,
  MODE_LABELS,
  type ModeMix,
  type ModesProblem,
  modesSample,
} from './modes.js';
import { numbersEqual } from './numbers.js';
import type { ChatMessage, CompletionSplit, OnError, Sample } from './types.js';

/** The tasks {@link loadTask} knows. */
export type TaskName = 'synthetic' | 'gsm8k' | 'mmlu';

/**
 * What a task needs of a tokenizer (structural: `@atmanrl/model`'s `Tokenizer` fits, and so does
 * any object with these members).
 */
export interface TaskTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  readonly bosTokenId?: number | undefined;
}

/** One item of a task: the sample, and for the synthetic task its plain prompt and reference. */
export interface TaskItem {
  sample: Sample;
  /** Plain-text prompt (synthetic task), else null (the chat template renders `sample.prompt`). */
  promptText: string | null;
  /** Reference completion (synthetic task: the step-by-step CoT + delimiter + answer), else null. */
  referenceCompletion: string | null;
}

/** The judgement of one completion: correct or not, and its CoT/answer split. */
export interface Judgement {
  correct: boolean;
  split: CompletionSplit;
}

/**
 * How a task names the reasoning mode of a CoT: the labels (in report order) and the classifier of
 * one CoT (the text before the answer delimiter) for the sample it answers.
 */
export interface ReasoningModeClassifier {
  labels: readonly string[];
  classify(sample: Sample, cot: string): string;
}

/** The modes task's classifier: `classifyReasoningMode` of the CoT (terse / verbose / bypass / other). */
export const MODES_CLASSIFIER: ReasoningModeClassifier = {
  labels: MODE_LABELS,
  classify: (_sample, cot) => classifyReasoningMode(cot),
};

/**
 * The hint-modes task's classifier: `classifyHintMode(sample.meta.question, cot)` (compute /
 * decorative / other).
 * @throws DatasetError `INVALID_ARGUMENT` for a sample without a two-step `meta.question`
 */
export const HINT_MODES_CLASSIFIER: ReasoningModeClassifier = {
  labels: HINT_MODE_LABELS,
  classify: (sample, cot) => {
    const question = (sample.meta as { question?: unknown } | undefined)?.question;
    if (typeof question !== 'string') {
      throw new DatasetError(
        'INVALID_ARGUMENT',
        `hint-modes classifier: sample ${sample.id} has no meta.question (not a hint-modes sample)`,
      );
    }
    return classifyHintMode(question, cot);
  },
};

/** A loaded task: its items, how to prompt with them, and how to split and judge a completion. */
export interface Task {
  name: TaskName;
  /** Answer kind: a number (synthetic, GSM8K) or a letter A-D (MMLU). */
  kind: AnswerKind;
  /** The final-answer delimiter. */
  delimiter: string;
  /** True when prompts are chat messages rendered by the model's chat template (gsm8k, mmlu). */
  usesChatTemplate: boolean;
  items: TaskItem[];
  /** Prompt token ids of an item: BOS + the plain text, or the chat template with a generation prompt. */
  encodePrompt(tokenizer: TaskTokenizer, item: TaskItem): number[];
  /** The CoT/answer split of a completion under the task's answer kind and delimiter. */
  split(text: string): CompletionSplit;
  /** Whether `text` answers `gold` correctly ({@link answerMatches}), with its split. */
  judge(text: string, gold: string): Judgement;
  /** The reasoning modes of the task's CoTs, when it defines them (synthetic modes and hint-modes). */
  modes?: ReasoningModeClassifier;
}

/** Options of the synthetic tasks (every field has the default given). */
export interface SyntheticTaskOptions {
  /**
   * `'arithmetic'` (multi-step, default), `'modes'` (three reasoning modes) or `'hint-modes'`
   * (compute / decorative CoTs with a hint in the prompt).
   */
  task?: 'arithmetic' | 'modes' | 'hint-modes';
  /**
   * Modes and hint-modes: how the splits differ. `'content'` (default): no question text occurs in
   * two splits (`generateModesSplit` / `generateHintModesSplit`); `'seed'`: one generated stream per
   * split, questions recur across splits (the split before issue 29). Arithmetic: always by seed.
   */
  splitBy?: 'content' | 'seed';
  /** Hint-modes task: probability that the hint states the right answer (default 1). */
  hintAccuracy?: number;
  /** Operations per arithmetic problem (default 2). */
  steps?: number;
  /** Largest operand (default 9). */
  maxNumber?: number;
  /** Share of problems whose answer is guessable from the prompt (default 0). */
  guessableFraction?: number;
  /** Modes task: the reference completions' mode shares (default `DEFAULT_MODE_MIX`). */
  modeMix?: ModeMix;
}

/** What {@link loadTask} loads: a dataset, a split and how its prompts are built. */
export interface TaskOptions {
  dataset: TaskName;
  /** Synthetic `train`/`val`/`test`; GSM8K `train`/`test`; MMLU `dev`/`val`/`test`. */
  split: string;
  /** Final-answer delimiter (default `'####'`). */
  delimiter?: string;
  /** k-shot examples in each prompt (GSM8K: the first k train items; MMLU: the subject's first k dev items). Default 0. */
  fewShot?: number;
  /** At most this many items (default: synthetic 20000 train / 500 otherwise; files: all). */
  limit?: number | null;
  /** GSM8K/MMLU: the folder holding the files (never downloaded here). */
  dataDir?: string | null;
  /** A malformed record: throw (default) or skip it. */
  onError?: OnError;
  /** Options of the synthetic task. */
  synthetic?: SyntheticTaskOptions;
}

/**
 * The one answer rule: a parsed answer matches the gold answer when both are numbers equal after
 * normalisation (`'18.00'` = `'18'`), or, for choices, the same letter in either case (a letter
 * names the same option in `'b'` and `'B'`). A null parse never matches.
 */
export function answerMatches(
  parsed: string | null,
  gold: string | null,
  kind: AnswerKind,
): boolean {
  if (parsed === null || gold === null) return false;
  return kind === 'number'
    ? numbersEqual(parsed, gold)
    : parsed.trim().toUpperCase() === gold.trim().toUpperCase();
}

/** Splits and judges completions under one answer kind and delimiter ({@link answerMatches}). */
export function answerRule(
  kind: AnswerKind,
  delimiter: string = DEFAULT_DELIMITER,
): Pick<Task, 'split' | 'judge'> {
  const split = (text: string): CompletionSplit => splitCompletion(text, { kind, delimiter });
  return {
    split,
    judge(text, gold) {
      const s = split(text);
      return { correct: answerMatches(s.parsedAnswer, gold, kind), split: s };
    },
  };
}

/** Token ids of an item's prompt: BOS + plain text, or the chat template with a generation prompt. */
export function encodeTaskPrompt(tokenizer: TaskTokenizer, item: TaskItem): number[] {
  if (item.promptText !== null) {
    const ids = tokenizer.encode(item.promptText, { addSpecialTokens: false });
    return tokenizer.bosTokenId === undefined ? ids : [tokenizer.bosTokenId, ...ids];
  }
  const text = tokenizer.applyChatTemplate(
    item.sample.prompt.map((m) => ({ role: m.role, content: m.content })),
    { addGenerationPrompt: true },
  );
  return tokenizer.encode(text, { addSpecialTokens: false });
}

/** A task record from its items and answer rule. */
export function createTask(fields: {
  name: TaskName;
  kind: AnswerKind;
  delimiter: string;
  usesChatTemplate: boolean;
  items: TaskItem[];
  modes?: ReasoningModeClassifier;
}): Task {
  return {
    ...fields,
    encodePrompt: encodeTaskPrompt,
    ...answerRule(fields.kind, fields.delimiter),
  };
}

/** Fixed data seeds of the synthetic task per split, so train and test never overlap by seed. */
const SYNTHETIC_SPLIT_SEED: Record<string, number> = { train: 1, test: 2, val: 3 };

/** Deterministic per-index uniform in [0,1) (for the guessable share). */
function unitHash(i: number): number {
  let z = (i + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
}

/**
 * The synthetic task (generated, no files): multi-step arithmetic or the reasoning-modes task.
 * @throws DatasetError `INVALID_ARGUMENT` (with `option`) for k-shot prompts, an unknown split or
 *   a bad mode mix
 */
export function syntheticTask(options: TaskOptions): Task {
  const delimiter = options.delimiter ?? DEFAULT_DELIMITER;
  const split = options.split;
  const syn = options.synthetic ?? {};
  if ((options.fewShot ?? 0) > 0) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      'the synthetic task has no k-shot prompts (its models are trained on the format); use 0',
      { option: 'fewShot' },
    );
  }
  const seed = SYNTHETIC_SPLIT_SEED[split];
  if (seed === undefined) {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `the synthetic task has splits train, val and test, not "${split}"`,
      { option: 'split' },
    );
  }
  const count = options.limit ?? (split === 'train' ? 20000 : 500);
  const guessable = syn.guessableFraction ?? 0;
  const max = syn.maxNumber ?? 9;
  const items: TaskItem[] = [];
  const splitBy = syn.splitBy ?? 'content';
  if (splitBy !== 'content' && splitBy !== 'seed') {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `splitBy is "${String(splitBy)}", expected 'content' or 'seed'`,
      { option: 'synthetic.splitBy' },
    );
  }
  let modes: ReasoningModeClassifier | undefined;
  if (syn.task === 'modes') {
    modes = MODES_CLASSIFIER;
    const options = {
      mix: syn.modeMix ?? DEFAULT_MODE_MIX,
      guessableFraction: guessable,
      max,
      delimiter,
    };
    let problems: ModesProblem[];
    try {
      problems =
        splitBy === 'content'
          ? generateModesSplit(split as ContentSplit, seed, count, options)
          : Array.from({ length: count }, (_, i) => generateModesProblem(seed, i, options));
    } catch (e) {
      throw new DatasetError('INVALID_ARGUMENT', (e as Error).message, {
        option: 'synthetic.modeMix',
        cause: e,
      });
    }
    for (const problem of problems) {
      items.push({
        sample: modesSample(problem),
        promptText: problem.promptText,
        referenceCompletion: problem.completionText,
      });
    }
  } else if (syn.task === 'hint-modes') {
    modes = HINT_MODES_CLASSIFIER;
    const options = { hintAccuracy: syn.hintAccuracy ?? 1, max, delimiter };
    let problems: HintModesProblem[];
    try {
      problems =
        splitBy === 'content'
          ? generateHintModesSplit(split as ContentSplit, seed, count, options)
          : Array.from({ length: count }, (_, i) => generateHintModesProblem(seed, i, options));
    } catch (e) {
      throw new DatasetError('INVALID_ARGUMENT', (e as Error).message, {
        option: 'synthetic.hintAccuracy',
        cause: e,
      });
    }
    for (const problem of problems) {
      items.push({
        sample: hintModesSample(problem),
        promptText: problem.promptText,
        referenceCompletion: problem.completionText,
      });
    }
  } else {
    for (let i = 0; i < count; i++) {
      const hint = unitHash(i + seed * 1_000_003) < guessable ? 'first-operand' : 'none';
      const problem = generateArithmeticProblem(seed, i, {
        steps: syn.steps ?? 2,
        max,
        hint,
        delimiter,
      });
      items.push({
        sample: arithmeticSample(problem),
        promptText: problem.promptText,
        referenceCompletion: problem.completionText,
      });
    }
  }
  return createTask({
    name: 'synthetic',
    kind: 'number',
    delimiter,
    usesChatTemplate: false,
    items,
    ...(modes ? { modes } : {}),
  });
}
