// The run's task: `@atmanrl/datasets`' `loadTask` with the options the run config names, and its
// errors told in flags. The task itself (items, prompts, the one answer rule) lives in datasets.
import {
  DatasetError,
  loadTask as loadDatasetTask,
  type Task,
  type TaskOptions,
} from '@atmanrl/datasets/node';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';

export type { Task, TaskItem } from '@atmanrl/datasets/node';

/** The run-config keys a task is loaded from. */
export type TaskConfig = Pick<
  RunConfig,
  | 'dataset'
  | 'split'
  | 'delimiter'
  | 'fewShot'
  | 'limit'
  | 'dataDir'
  | 'dataOnError'
  | 'syntheticTask'
  | 'syntheticSplit'
  | 'syntheticHintAccuracy'
  | 'syntheticSteps'
  | 'syntheticMaxNumber'
  | 'syntheticGuessableFraction'
  | 'modeMixTerse'
  | 'modeMixVerbose'
  | 'modeMixBypass'
>;

/** The datasets `TaskOptions` of a run config (on `split`, default the config's). */
export function taskOptions(config: TaskConfig, split = config.split): TaskOptions {
  return {
    dataset: config.dataset,
    split,
    delimiter: config.delimiter,
    fewShot: config.fewShot,
    limit: config.limit,
    dataDir: config.dataDir,
    onError: config.dataOnError,
    synthetic: {
      task: config.syntheticTask,
      splitBy: config.syntheticSplit,
      hintAccuracy: config.syntheticHintAccuracy,
      steps: config.syntheticSteps,
      maxNumber: config.syntheticMaxNumber,
      guessableFraction: config.syntheticGuessableFraction,
      modeMix: {
        terse: config.modeMixTerse,
        verbose: config.modeMixVerbose,
        bypass: config.modeMixBypass,
      },
    },
  };
}

/** The flag(s) of a `TaskOptions` key named by a `DatasetError`. */
const TASK_OPTION_FLAGS: Record<string, string> = {
  fewShot: '--few-shot',
  split: '--split',
  dataDir: '--data-dir',
  limit: '--limit',
  delimiter: '--delimiter',
  'synthetic.hintAccuracy': '--synthetic-hint-accuracy',
  'synthetic.splitBy': '--synthetic-split',
  'synthetic.modeMix':
    '--mode-mix-terse/--mode-mix-verbose/--mode-mix-bypass/--synthetic-guessable-fraction',
};

/**
 * Loads the configured dataset split (synthetic: generated; gsm8k/mmlu: from `--data-dir`).
 * @throws UsageError naming the flag (`BAD_CONFIG`, or `DATA_NOT_FOUND` for the data folder)
 */
export async function loadTask(config: TaskConfig, split = config.split): Promise<Task> {
  if (config.dataset !== 'synthetic' && config.dataDir === null) {
    throw new UsageError(
      'DATA_NOT_FOUND',
      `--dataset ${config.dataset} needs --data-dir <folder> with the ${config.dataset === 'gsm8k' ? 'GSM8K train.jsonl/test.jsonl (or openai/gsm8k parquet)' : 'MMLU <subject>_<split>.csv files (or cais/mmlu parquet)'} files. Weights and data are never downloaded at run time.`,
      { flag: '--data-dir' },
    );
  }
  try {
    return await loadDatasetTask(taskOptions(config, split));
  } catch (e) {
    if (!(e instanceof DatasetError) || e.option === undefined) throw e;
    const flag = TASK_OPTION_FLAGS[e.option] ?? e.option;
    // "--data-dir /x does not exist. ...": the data folder's message starts with its path.
    const folder = e.option === 'dataDir';
    throw new UsageError(
      folder ? 'DATA_NOT_FOUND' : 'BAD_CONFIG',
      `${flag}${folder ? ' ' : ': '}${e.message}`,
      { cause: e, flag },
    );
  }
}
