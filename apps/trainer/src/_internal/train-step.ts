// One step of the GRPO loop and what follows it, each taking the slice of the config it reads:
// `trainStep` (batch -> grpoStep -> rollout metrics -> finite check), `evalStep` (greedy test
// accuracy), `logStep` (metrics.jsonl, completions, samples, the progress line) and `saveStep`
// (checkpoint, pruning). The loop that calls them is train-loop.ts; the run they act on, train-run.ts.
import { nextBatch } from '@atmanrl/datasets';
import { type Episode, grpoStep } from '@atmanrl/grpo';
import type { RunConfig } from '../config.js';
import { greedyAccuracy } from './accuracy.js';
import { pruneCheckpoints, saveCheckpoint } from './checkpoint.js';
import { maskStatistics, rolloutMetrics, sampleRecords } from './episode-log.js';
import { checkStepFinite, warnIfCollapsed } from './finite.js';
import { WorkerPool } from './pool/index.js';
import { workerTimeMetrics } from './pool/metrics.js';
import { judgementOf } from './rewards.js';
import type { TaskItem } from './task.js';
import { orderedBatch, truncatePrompt } from './train-options.js';
import type { OpenedRun } from './train-run.js';

/** `--log-completions`: the lines printed for a logging step (the first `count` completions). */
export function completionLines(
  step: number,
  episodes: readonly Episode<TaskItem>[],
  count: number | null,
): string[] {
  const shown = count === null ? episodes : episodes.slice(0, count);
  return [
    `completions at step ${step} (${shown.length} of ${episodes.length}):`,
    ...shown.map((e) => {
      const parts = Object.entries(e.rewards)
        .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(3) : 'n/a'}`)
        .join(', ');
      const prompt = e.sample.promptText ?? e.sample.sample.id;
      return `  prompt ${e.promptIndex} #${e.completionIndex} | reward ${Number.isFinite(e.reward) ? e.reward.toFixed(3) : 'n/a'} (${parts}) | ${judgementOf(e).correct ? 'correct' : 'wrong'}${e.truncated ? ', truncated' : ''} | ${JSON.stringify(prompt)} -> ${JSON.stringify(e.text)}`;
    }),
  ];
}

/** What one step produced. */
export interface StepResult {
  step: number;
  episodes: Episode<TaskItem>[];
  metrics: Record<string, number>;
}

/** The config keys of {@link trainStep}. */
export type StepConfig = Pick<
  RunConfig,
  'shuffleDataset' | 'promptsPerStep' | 'maxPromptLength' | 'overlapRewards'
>;

/**
 * One GRPO step on the next batch: rollouts, rewards (their judgements ride on the episodes),
 * advantages, update; the step's metrics; the non-finite check (throws before anything is saved,
 * with the metrics logged). Advances the run's step and data cursor.
 */
export async function trainStep(run: OpenedRun, config: StepConfig): Promise<StepResult> {
  const { state, task, tokenizer, policy, pool } = run;
  const step = state.step + 1;
  state.currentStep = step;
  const t0 = performance.now();
  run.progress.phase(step, 'generation', 0, 1);
  const batch = config.shuffleDataset
    ? nextBatch(task.items, state.cursor, config.promptsPerStep, { dropLast: true })
    : orderedBatch(task.items, state.cursor, config.promptsPerStep);
  let truncatedPrompts = 0;
  const promptIds = batch.items.map((it) => {
    const ids = task.encodePrompt(tokenizer, it);
    if (config.maxPromptLength !== null && ids.length > config.maxPromptLength) truncatedPrompts++;
    return truncatePrompt(ids, config.maxPromptLength);
  });
  await pool.setWeights(step, policy);
  const result = await grpoStep<TaskItem>(
    {
      policy,
      optimizer: run.optimizer,
      rewards: run.specs,
      config: run.grpo,
      rng: state.rng,
      engine: run.engine,
      // --overlap-rewards: rewards per micro-batch, the first update pass of each starting as its
      // rewards are in. A run setting, not tied to the worker count, so the rewards are cut alike
      // for any number of workers.
      overlapRewards: config.overlapRewards,
      ...(run.reference ? { reference: run.reference } : {}),
    },
    { samples: batch.items, promptIds },
  );
  const stepMs = performance.now() - t0;
  const metrics: Record<string, number> = {
    ...result.metrics,
    ...rolloutMetrics(tokenizer, result.episodes, run.task.modes),
    ...workerTimeMetrics(pool.takeTimes(), pool.slots, stepMs),
    // --queue: workers and slots connected, per-worker busy/idle seconds, jobs re-added
    ...(pool instanceof WorkerPool ? {} : pool.takeQueueMetrics(stepMs)),
    ...(config.maxPromptLength === null ? {} : { 'prompts/truncated': truncatedPrompts }),
    step_time: stepMs / 1000,
  };
  // Non-finite loss, gradient norm, mask-fit statistic or weights: stop before saving (finite.ts).
  const nonFinite = await checkStepFinite({
    step,
    metrics,
    maskStatistics: maskStatistics(result.episodes),
    model: policy,
    runDir: run.writer.dir,
    lastSaved: state.lastSaved,
  });
  if (nonFinite !== null) {
    run.writer.logMetrics(step, metrics);
    run.writer.setStatus('failed', nonFinite.message);
    throw nonFinite;
  }
  warnIfCollapsed(run.io, step, metrics, policy.config.vocab_size, run.collapse);
  state.cursor = batch.cursor;
  state.step = step;
  return { step, episodes: result.episodes, metrics };
}

/** The config keys of {@link evalStep}. */
export type EvalStepConfig = Pick<RunConfig, 'evalSteps' | 'evalLimit' | 'maxCompletionLength'>;

/**
 * `--eval-steps`: greedy accuracy on the test split into the step's metrics. Greedy, so it draws
 * nothing from the run's RNG: the trajectory is the same without it.
 */
export async function evalStep(
  run: OpenedRun,
  config: EvalStepConfig,
  { step, metrics }: StepResult,
): Promise<void> {
  if (run.evalTask === null || config.evalSteps === null || step % config.evalSteps !== 0) return;
  run.progress.phase(step, 'eval', 0, 1);
  const r = await greedyAccuracy(
    run.policy,
    run.tokenizer,
    run.evalTask,
    config.evalLimit,
    config.maxCompletionLength,
  );
  metrics['eval/accuracy'] = r.accuracy;
  metrics['eval/strict_rate'] = r.strictRate;
  run.io.out(
    `eval at step ${step}: accuracy ${r.accuracy.toFixed(3)} on ${Math.min(config.evalLimit, run.evalTask.items.length)} test problems (greedy)`,
  );
}

/** The config keys of {@link logStep}. */
export type LogConfig = Pick<
  RunConfig,
  'loggingSteps' | 'maxSteps' | 'logCompletions' | 'numCompletionsToPrint' | 'logSamplesEvery'
>;

/** Logs a step: metrics.jsonl, `--log-completions`, the sample log (with probes), the progress line. */
export async function logStep(
  run: OpenedRun,
  config: LogConfig,
  { step, episodes, metrics }: StepResult,
): Promise<void> {
  run.writer.logMetrics(step, metrics);
  const loggingStep = step % config.loggingSteps === 0 || step === config.maxSteps;
  if (config.logCompletions && loggingStep)
    run.io.err(completionLines(step, episodes, config.numCompletionsToPrint).join('\n'));
  if (step % config.logSamplesEvery === 0) {
    run.writer.logSamples([
      ...sampleRecords(step, run.tokenizer, episodes, run.task.modes),
      ...((await run.probes?.record(step)) ?? []),
    ]);
  }
  // --logging-steps: the progress line of other steps is not printed (metrics.jsonl gets them all).
  run.quiet.on = !loggingStep;
  run.progress.done(step, metrics, metrics['step_time'] ?? 0);
  run.quiet.on = false;
}

/** The config keys of {@link saveStep}. */
export type SaveConfig = Pick<RunConfig, 'checkpointEvery' | 'maxSteps' | 'saveTotalLimit'>;

/** Checkpoints the run when due (every `--checkpoint-every`, the last step, or a stop request). */
export async function saveStep(run: OpenedRun, config: SaveConfig, stop: boolean): Promise<void> {
  const { state, writer } = run;
  const step = state.step;
  if (step % config.checkpointEvery !== 0 && step !== config.maxSteps && !stop) return;
  run.progress.phase(step, 'checkpoint', 0, 1);
  await saveCheckpoint(writer, run.policy, await run.optimizer.getState(), {
    version: 1,
    step,
    rng: state.rng.state(),
    cursor: state.cursor,
  });
  state.lastSaved = step;
  if (config.saveTotalLimit !== null) pruneCheckpoints(writer, config.saveTotalLimit);
}
