// What a training run derives from its config before the loop: the GRPO options, the steps of
// `--num-train-epochs`, the batch order of `--shuffle-dataset false`, prompt truncation and the
// default worker count. Shared by the set-up (train-run.ts) and the step (train-step.ts).
import { availableParallelism } from 'node:os';
import type { DataCursor } from '@atmanrl/datasets';
import { GRPO_DEFAULTS, type GrpoConfigInput } from '@atmanrl/grpo';
import { grpoInput, type RunConfig } from '../config.js';
import { UsageError } from '../errors.js';

/**
 * The GRPO options of a run (TRL names), from the option table's `grpo` keys (`grpoInput`); an
 * option the installed `@atmanrl/grpo` lacks passes only at its default.
 */
export function grpoOptions(config: RunConfig, eosTokenIds: number[]): GrpoConfigInput {
  return { ...grpoInput(config, GRPO_DEFAULTS), eosTokenIds };
}

/**
 * `--num-train-epochs`: steps for `epochs` passes over `items` prompts at `promptsPerStep` per
 * step, the incomplete last batch of an epoch dropped (as the loop does): ceil(epochs × floor(items
 * / promptsPerStep)).
 */
export function stepsForEpochs(items: number, promptsPerStep: number, epochs: number): number {
  const perEpoch = Math.floor(items / promptsPerStep);
  if (perEpoch < 1) {
    throw new UsageError(
      'BAD_CONFIG',
      `--num-train-epochs: the task has ${items} prompts, fewer than --prompts-per-step ${promptsPerStep}, so an epoch has no step; lower --prompts-per-step or raise --limit`,
      { flag: '--num-train-epochs' },
    );
  }
  return Math.max(1, Math.ceil(epochs * perEpoch - 1e-9));
}

/**
 * `--shuffle-dataset false`: the next `size` items in dataset order, with `nextBatch`'s cursor
 * semantics (an incomplete last batch is dropped and the cursor moves to the next epoch).
 */
export function orderedBatch<T>(
  items: readonly T[],
  cursor: DataCursor,
  size: number,
): { items: T[]; cursor: DataCursor } {
  const n = items.length;
  if (n < size) {
    throw new UsageError(
      'BAD_CONFIG',
      `--prompts-per-step ${size} is more than the task's ${n} prompts; lower it or raise --limit`,
      { flag: '--prompts-per-step' },
    );
  }
  let { epoch, index } = cursor;
  if (index >= n || n - index < size) {
    epoch += 1;
    index = 0;
  }
  const batch = items.slice(index, index + size);
  index += size;
  return {
    items: batch,
    cursor:
      index >= n
        ? { epoch: epoch + 1, index: 0, seed: cursor.seed }
        : { epoch, index, seed: cursor.seed },
  };
}

/** `--max-prompt-length`: keeps the last `max` tokens of a prompt (TRL truncates from the left). */
export function truncatePrompt(ids: readonly number[], max: number | null): number[] {
  return max === null || ids.length <= max ? [...ids] : ids.slice(ids.length - max);
}

/**
 * Workers when `--workers` is not given: every core for the CPU backends (wasm runs one thread per
 * worker); 1 for GPU backends, where one process already uses the device and each worker would
 * hold a full copy of the model.
 */
export function defaultWorkers(backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? availableParallelism() : 1;
}
