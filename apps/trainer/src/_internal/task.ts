// The task a run trains or evaluates on: dataset items as prompts + gold answers, how prompts
// become token ids (plain text for the synthetic task, the model's chat template otherwise), and
// how a completion is judged. Leaves out batching (datasets' cursor) and rewards (rewards.ts).
import { existsSync } from 'node:fs';
import {
  type AnswerKind,
  arithmeticSample,
  type CompletionSplit,
  generateArithmeticProblem,
  generateModesProblem,
  gsm8kSample,
  loadGsm8k,
  loadMmlu,
  mmluFewShot,
  mmluSample,
  modesSample,
  numbersEqual,
  type Sample,
  splitCompletion,
} from '@atmanrl/datasets/node';
import type { Tokenizer } from '@atmanrl/model';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';

/** One item: the sample, and for the synthetic task its plain prompt and reference completion. */
export interface TaskItem {
  sample: Sample;
  /** Plain-text prompt (synthetic task), else null (the chat template renders `sample.prompt`). */
  promptText: string | null;
  /** Reference completion (synthetic task: the step-by-step CoT + delimiter + answer). */
  referenceCompletion: string | null;
}

/** A loaded task. */
export interface Task {
  name: RunConfig['dataset'];
  kind: AnswerKind;
  delimiter: string;
  /** True when prompts are chat messages rendered by the model's chat template (gsm8k, mmlu). */
  usesChatTemplate: boolean;
  items: TaskItem[];
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

/** Loads the configured dataset split (synthetic: generated; gsm8k/mmlu: from `dataDir`). */
export async function loadTask(config: RunConfig, split = config.split): Promise<Task> {
  const delimiter = config.delimiter;
  if (config.dataset === 'synthetic') {
    if (config.fewShot > 0) {
      throw new UsageError(
        'BAD_CONFIG',
        '--few-shot: the synthetic task has no k-shot prompts (its models are trained on the format); use 0',
      );
    }
    const seed = SYNTHETIC_SPLIT_SEED[split];
    if (seed === undefined) {
      throw new UsageError(
        'BAD_CONFIG',
        `split: the synthetic task has splits train, val and test, not "${split}"`,
      );
    }
    const count = config.limit ?? (split === 'train' ? 20000 : 500);
    const items: TaskItem[] = [];
    if (config.syntheticTask === 'modes') {
      const mix = {
        terse: config.modeMixTerse,
        verbose: config.modeMixVerbose,
        bypass: config.modeMixBypass,
      };
      for (let i = 0; i < count; i++) {
        let problem: ReturnType<typeof generateModesProblem>;
        try {
          problem = generateModesProblem(seed, i, {
            mix,
            guessableFraction: config.syntheticGuessableFraction,
            max: config.syntheticMaxNumber,
            delimiter,
          });
        } catch (e) {
          throw new UsageError(
            'BAD_CONFIG',
            `--mode-mix-terse/--mode-mix-verbose/--mode-mix-bypass/--synthetic-guessable-fraction: ${(e as Error).message}`,
          );
        }
        items.push({
          sample: modesSample(problem),
          promptText: problem.promptText,
          referenceCompletion: problem.completionText,
        });
      }
      return { name: 'synthetic', kind: 'number', delimiter, usesChatTemplate: false, items };
    }
    for (let i = 0; i < count; i++) {
      const hint =
        unitHash(i + seed * 1_000_003) < config.syntheticGuessableFraction
          ? 'first-operand'
          : 'none';
      const problem = generateArithmeticProblem(seed, i, {
        steps: config.syntheticSteps,
        max: config.syntheticMaxNumber,
        hint,
        delimiter,
      });
      items.push({
        sample: arithmeticSample(problem),
        promptText: problem.promptText,
        referenceCompletion: problem.completionText,
      });
    }
    return { name: 'synthetic', kind: 'number', delimiter, usesChatTemplate: false, items };
  }
  if (config.dataDir === null) {
    throw new UsageError(
      'DATA_NOT_FOUND',
      `--dataset ${config.dataset} needs --data-dir <folder> with the ${config.dataset === 'gsm8k' ? 'GSM8K train.jsonl/test.jsonl (or openai/gsm8k parquet)' : 'MMLU <subject>_<split>.csv files (or cais/mmlu parquet)'} files. Weights and data are never downloaded at run time.`,
    );
  }
  if (!existsSync(config.dataDir)) {
    throw new UsageError(
      'DATA_NOT_FOUND',
      `--data-dir ${config.dataDir} does not exist. Point it at the folder holding the ${config.dataset} files.`,
    );
  }
  if (config.dataset === 'gsm8k') {
    if (split !== 'train' && split !== 'test') {
      throw new UsageError('BAD_CONFIG', `split: GSM8K has splits train and test, not "${split}"`);
    }
    const { items } = await loadGsm8k({ path: config.dataDir, split, onError: config.dataOnError });
    // k-shot examples are the first k train items (never evaluated or trained on as questions).
    const shots =
      config.fewShot === 0
        ? []
        : split === 'train'
          ? items.slice(0, config.fewShot)
          : (
              await loadGsm8k({ path: config.dataDir, split: 'train', onError: config.dataOnError })
            ).items.slice(0, config.fewShot);
    const pool = split === 'train' ? items.slice(shots.length) : items;
    const picked = config.limit === null ? pool : pool.slice(0, config.limit);
    return {
      name: 'gsm8k',
      kind: 'number',
      delimiter,
      usesChatTemplate: true,
      items: picked.map((it) => ({
        sample: gsm8kSample(it, { delimiter, shots }),
        promptText: null,
        referenceCompletion: null,
      })),
    };
  }
  if (split !== 'dev' && split !== 'val' && split !== 'test') {
    throw new UsageError(
      'BAD_CONFIG',
      `split: MMLU has splits dev, val and test, not "${split}" (use --split test)`,
    );
  }
  const { items } = await loadMmlu({ path: config.dataDir, split, onError: config.dataOnError });
  // k-shot examples follow MMLU's protocol: the first k dev items of the question's subject.
  const dev =
    config.fewShot === 0
      ? []
      : split === 'dev'
        ? items
        : (await loadMmlu({ path: config.dataDir, split: 'dev', onError: config.dataOnError }))
            .items;
  const picked = config.limit === null ? items : items.slice(0, config.limit);
  return {
    name: 'mmlu',
    kind: 'choice',
    delimiter,
    usesChatTemplate: true,
    items: picked.map((it) => ({
      sample: mmluSample(it, {
        delimiter,
        shots: mmluFewShot(dev, it.subject, config.fewShot).filter((s) => s.id !== it.id),
      }),
      promptText: null,
      referenceCompletion: null,
    })),
  };
}

/** Token ids of an item's prompt: BOS + plain text, or the chat template with a generation prompt. */
export function encodePrompt(tokenizer: Tokenizer, item: TaskItem): number[] {
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

/** The CoT/answer split of a completion under the task's answer kind and delimiter. */
export function splitText(task: Task, text: string): CompletionSplit {
  return splitCompletion(text, { kind: task.kind, delimiter: task.delimiter });
}

/** Whether `text` answers `gold` correctly, with the completion's CoT/answer split. */
export function judge(
  task: Task,
  text: string,
  gold: string,
): { correct: boolean; split: CompletionSplit } {
  const split = splitText(task, text);
  const a = split.parsedAnswer;
  const correct =
    a !== null &&
    (task.kind === 'number' ? numbersEqual(a, gold) : a.toUpperCase() === gold.toUpperCase());
  return { correct, split };
}
