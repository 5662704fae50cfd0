// Loading a task from its options: the synthetic task is generated; GSM8K and MMLU are read from
// `dataDir` with their k-shot examples taken from train (GSM8K) or the subject's dev items (MMLU),
// never from the items the task asks.
import { existsSync } from 'node:fs';
import { DEFAULT_DELIMITER } from '../answer-parsing.js';
import { DatasetError } from '../errors.js';
import { mmluFewShot } from '../mmlu.js';
import { gsm8kSample, mmluSample } from '../prompts.js';
import { createTask, syntheticTask, type Task, type TaskOptions } from '../task.js';
import { loadGsm8k } from './gsm8k.js';
import { loadMmlu } from './mmlu.js';

/**
 * Loads a task: synthetic (generated), GSM8K or MMLU (from `dataDir`; weights and data are never
 * downloaded here, see `downloadDataset`).
 * @throws DatasetError `INVALID_ARGUMENT` or `NOT_FOUND` naming the option (`error.option`) and
 *   the fix; `BAD_RECORD` for a malformed file line (unless `onError: 'skip'`)
 * @example
 * ```ts
 * import { loadTask } from '@atmanrl/datasets/node';
 * const task = await loadTask({ dataset: 'synthetic', split: 'test', limit: 2 });
 * task.judge('3+4=7. #### 7', task.items[0]!.sample.gold); // { correct, split }
 * ```
 */
export async function loadTask(options: TaskOptions): Promise<Task> {
  if (options.dataset === 'synthetic') return syntheticTask(options);
  const { dataset, split } = options;
  const delimiter = options.delimiter ?? DEFAULT_DELIMITER;
  const fewShot = options.fewShot ?? 0;
  const limit = options.limit ?? null;
  const onError = options.onError ?? 'throw';
  const dataDir = options.dataDir ?? null;
  if (dataDir === null) {
    throw new DatasetError(
      'NOT_FOUND',
      `the ${dataset} task needs a data folder with the ${dataset === 'gsm8k' ? 'GSM8K train.jsonl/test.jsonl (or openai/gsm8k parquet)' : 'MMLU <subject>_<split>.csv files (or cais/mmlu parquet)'} files. Weights and data are never downloaded at run time.`,
      { option: 'dataDir' },
    );
  }
  if (!existsSync(dataDir)) {
    throw new DatasetError(
      'NOT_FOUND',
      `${dataDir} does not exist. Point it at the folder holding the ${dataset} files.`,
      { option: 'dataDir' },
    );
  }
  if (dataset === 'gsm8k') {
    if (split !== 'train' && split !== 'test') {
      throw new DatasetError(
        'INVALID_ARGUMENT',
        `GSM8K has splits train and test, not "${split}"`,
        {
          option: 'split',
        },
      );
    }
    const { items } = await loadGsm8k({ path: dataDir, split, onError });
    // k-shot examples are the first k train items (never evaluated or trained on as questions).
    const shots =
      fewShot === 0
        ? []
        : split === 'train'
          ? items.slice(0, fewShot)
          : (await loadGsm8k({ path: dataDir, split: 'train', onError })).items.slice(0, fewShot);
    const pool = split === 'train' ? items.slice(shots.length) : items;
    const picked = limit === null ? pool : pool.slice(0, limit);
    return createTask({
      name: 'gsm8k',
      kind: 'number',
      delimiter,
      usesChatTemplate: true,
      items: picked.map((it) => ({
        sample: gsm8kSample(it, { delimiter, shots }),
        promptText: null,
        referenceCompletion: null,
      })),
    });
  }
  if (split !== 'dev' && split !== 'val' && split !== 'test') {
    throw new DatasetError(
      'INVALID_ARGUMENT',
      `MMLU has splits dev, val and test, not "${split}" (use the test split)`,
      { option: 'split' },
    );
  }
  const { items } = await loadMmlu({ path: dataDir, split, onError });
  // k-shot examples follow MMLU's protocol: the first k dev items of the question's subject.
  const dev =
    fewShot === 0
      ? []
      : split === 'dev'
        ? items
        : (await loadMmlu({ path: dataDir, split: 'dev', onError })).items;
  const picked = limit === null ? items : items.slice(0, limit);
  return createTask({
    name: 'mmlu',
    kind: 'choice',
    delimiter,
    usesChatTemplate: true,
    items: picked.map((it) => ({
      sample: mmluSample(it, {
        delimiter,
        shots: mmluFewShot(dev, it.subject, fewShot).filter((s) => s.id !== it.id),
      }),
      promptText: null,
      referenceCompletion: null,
    })),
  });
}
