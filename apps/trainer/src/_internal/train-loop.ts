// The GRPO training loop shared by `train`, `demo` and `experiment`: set up (or resume) a run,
// then per step: batch -> grpoStep (rollout, rewards incl. the saliency fit, advantages, update)
// -> metrics/samples to the run folder -> checkpoint. Exact resume restores weights, optimizer
// moments, RNG state, data cursor and step (trainer_state.json).
import { availableParallelism } from 'node:os';
import { createCursor, type DataCursor, nextBatch } from '@atmanrl/datasets';
import { createOptimizer, GRPO_DEFAULTS, type GrpoConfigInput, grpoStep } from '@atmanrl/grpo';
import { createRng, type LlamaModel } from '@atmanrl/model';
import type { RunWriter } from '@atmanrl/runs/node';
import type { CliIO } from '../cli-core.js';
import { grpoInput, type RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { greedyAccuracy } from './accuracy.js';
import { pruneCheckpoints, type readLatestCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type JudgedEpisode, judgeEpisodes, rolloutMetrics, sampleRecords } from './episode-log.js';
import { checkStepFinite, nonFiniteStop, warnIfCollapsed } from './finite.js';
import { checkMemoryBudget } from './memory-budget.js';
import { loadPolicy, resolveModelDir } from './model-source.js';
import { PooledRolloutEngine, pooledFit, WorkerPool } from './pool/index.js';
import { workerTimeMetrics } from './pool/metrics.js';
import { createProbes } from './probes.js';
import { StepProgress } from './progress.js';
import { openResume } from './resume.js';
import { rewardSpecs } from './rewards.js';
import { createRun, setUpBackend } from './run-setup.js';
import { installStopSignals } from './signals.js';
import { encodePrompt, loadTask, type Task, type TaskItem } from './task.js';

/** How a training run ended. */
export interface TrainOutcome {
  runDir: string;
  runId: string;
  status: 'finished' | 'interrupted';
  lastStep: number;
  /** Metrics of every step run in this process, in order. */
  metrics: Record<string, number>[];
}

/** Options beyond the config. */
export interface TrainLoopOptions {
  command: string;
  /** Set `stop = true` to checkpoint and stop after the current step (SIGINT/SIGTERM do this). */
  control?: { stop: boolean };
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  /** Config keys the user set explicitly (for `--resume`). */
  explicit?: ReadonlySet<string>;
}

/**
 * The GRPO options of a run (TRL names), from the option table's `grpo` keys (`grpoInput`); an
 * option the installed `@atmanrl/grpo` lacks passes only at its default.
 */
export function grpoOptions(config: RunConfig, eosTokenIds: number[]): GrpoConfigInput {
  return {
    ...grpoInput(config, GRPO_DEFAULTS as unknown as Record<string, unknown>),
    eosTokenIds,
  } as GrpoConfigInput;
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

/** `--log-completions`: the lines printed for a logging step (the first `count` completions). */
export function completionLines(
  step: number,
  judged: readonly JudgedEpisode[],
  count: number | null,
): string[] {
  const shown = count === null ? judged : judged.slice(0, count);
  return [
    `completions at step ${step} (${shown.length} of ${judged.length}):`,
    ...shown.map(({ episode: e, correct }) => {
      const parts = Object.entries(e.rewards)
        .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(3) : 'n/a'}`)
        .join(', ');
      const prompt = e.sample.promptText ?? e.sample.sample.id;
      return `  prompt ${e.promptIndex} #${e.generation} | reward ${Number.isFinite(e.reward) ? e.reward.toFixed(3) : 'n/a'} (${parts}) | ${correct ? 'correct' : 'wrong'}${e.truncated ? ', truncated' : ''} | ${JSON.stringify(prompt)} -> ${JSON.stringify(e.text)}`;
    }),
  ];
}

/** Runs (or resumes) GRPO training as configured. */
export async function runTraining(
  configIn: RunConfig,
  io: CliIO,
  options: TrainLoopOptions,
): Promise<TrainOutcome> {
  let config = configIn;
  let run: RunWriter | undefined;
  let resumeFrom: Awaited<ReturnType<typeof readLatestCheckpoint>> | null = null;
  if (config.resume !== null) {
    // Resume policy, lock, checkpoint checks and run.json history: resume.ts.
    const resumed = await openResume(configIn, options.explicit ?? new Set(), options.command);
    run = resumed.run;
    config = resumed.config;
    resumeFrom = resumed.checkpoint;
    for (const note of resumed.notes) io.err(`atmanrl: ${note}`);
  }

  const setUp = async () => {
    const backend = await setUpBackend(config, io);
    const task = await loadTask(config);
    const needsChatTemplate = task.usesChatTemplate;
    // The policy is the checkpoint when resuming, else --model. The frozen KL reference is always
    // the starting model, so --model is loaded a second time only when resuming with beta > 0.
    const policy: LlamaModel = (
      await loadPolicy(resumeFrom?.dir ?? config.model, { needsChatTemplate })
    ).model;
    // --recompute: the update's and the in-thread fits' forward passes (gradients unchanged)
    policy.recompute = config.recompute;
    let reference: LlamaModel | undefined;
    if (config.beta > 0) {
      reference =
        resumeFrom === null
          ? policy.clone({ trainable: false })
          : (await loadPolicy(config.model, { needsChatTemplate, trainable: false })).model;
    }
    return { backend, task, policy, reference };
  };
  let loaded: Awaited<ReturnType<typeof setUp>>;
  try {
    loaded = await setUp();
  } catch (e) {
    run?.close(); // a resumed run holds its lock: release it before reporting
    throw e;
  }
  const { backend, task, policy, reference } = loaded;
  const tokenizer = policy.tokenizer!; // loadPolicy guarantees one
  // Out of heap is an error before the first step, not a crash (or garbage) in the middle of one.
  const longestPrompt = Math.max(
    1,
    ...task.items
      .slice(0, 512)
      .map((it) => truncatePrompt(encodePrompt(tokenizer, it), config.maxPromptLength).length),
  );
  let evalTask: Task | null = null;
  let grpoCfg: GrpoConfigInput;
  try {
    if (config.numTrainEpochs !== null && resumeFrom === null) {
      const maxSteps = stepsForEpochs(
        task.items.length,
        config.promptsPerStep,
        config.numTrainEpochs,
      );
      io.err(
        `atmanrl: --num-train-epochs ${config.numTrainEpochs}: ${task.items.length} prompts at ${config.promptsPerStep} per step = ${Math.floor(task.items.length / config.promptsPerStep)} steps per epoch, so --max-steps ${maxSteps}`,
      );
      config = { ...config, maxSteps };
    }
    if (config.evalSteps !== null) evalTask = await loadTask(config, 'test');
    const eos = [...new Set([...tokenizer.eosTokenIds, ...policy.config.eos_token_id])];
    grpoCfg = grpoOptions(config, eos);
    for (const w of checkMemoryBudget(config, policy.config, backend.name, longestPrompt))
      io.err(`atmanrl: warning: ${w}`);
  } catch (e) {
    run?.close();
    policy.dispose();
    reference?.dispose();
    throw e;
  }
  if (resumeFrom === null) {
    run = createRun(config, options.command, backend, config.maxSteps);
  } else {
    for (const p of run!.truncateAfter(resumeFrom.state.step))
      io.err(`atmanrl: warning: dropped a damaged line: ${p.message}`);
    run!.update({
      status: 'running',
      totalSteps: config.maxSteps,
      backend: {
        name: backend.name,
        detail: backend.detail,
        ...(backend.adapter ? { adapter: backend.adapter } : {}),
      },
    });
  }
  const writer = run!;
  io.out(`run: ${writer.dir}${resumeFrom ? ` (resumed at step ${resumeFrom.state.step})` : ''}`);

  const optimizer = createOptimizer(policy, grpoCfg);
  let rng = createRng(config.seed);
  let cursor: DataCursor = createCursor(config.seed);
  let step = 0;
  if (resumeFrom !== null) {
    if (resumeFrom.optimizerState) optimizer.loadState(resumeFrom.optimizerState);
    rng = createRng(resumeFrom.state.rng);
    cursor = resumeFrom.state.cursor;
    step = resumeFrom.state.step;
  }

  const control = options.control ?? { stop: false };
  const handle = options.handleSignals ?? true;
  // SIGINT/SIGTERM/SIGHUP: checkpoint after this step; a second one force-quits (signals.ts).
  const signals = handle
    ? installStopSignals(control, io, {
        lastCheckpoint: () =>
          lastSaved > 0 ? `the last checkpoint is step ${lastSaved}` : 'no checkpoint was saved',
        onForceQuit: () => writer.setStatus('interrupted', 'force-quit by a second stop signal'),
      })
    : null;
  // --logging-steps: the progress line of other steps is not printed (metrics.jsonl gets them all).
  let quietStep = false;
  const progressIO: CliIO = {
    ...io,
    out: (line) => {
      if (!quietStep) io.out(line);
    },
  };
  const progress = new StepProgress(progressIO, step + 1, config.maxSteps);
  let currentStep = step + 1;
  // Rollouts and mask fits run as jobs on a worker pool; the cut into jobs and their seeds do not
  // depend on the worker count, so results do not either (1 worker = in this thread).
  const pool = new WorkerPool({
    workers: config.workers ?? defaultWorkers(backend.name),
    modelDir: resolveModelDir(resumeFrom?.dir ?? config.model),
    backend: backend.name,
    recompute: config.recompute,
  });
  const engine = new PooledRolloutEngine(pool);
  const specs = rewardSpecs(policy, tokenizer, task, config, {
    fitMasks: (fitItems, o) =>
      pooledFit(pool, fitItems, {
        ...o,
        itemsPerJob: config.numGenerations,
        onProgress: (d, t) => progress.phase(currentStep, 'saliency fit', d, t),
      }),
  });
  const withModes = config.dataset === 'synthetic' && config.syntheticTask === 'modes';
  let probes: ReturnType<typeof createProbes> | null = null;
  if (config.probePrompts > 0) {
    try {
      probes = createProbes(policy, tokenizer, await loadTask(config, 'test'), config, withModes);
    } catch (e) {
      // Probes are a view aid: a task without a test split trains without them.
      io.err(`atmanrl: warning: no probe prompts (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const allMetrics: Record<string, number>[] = [];
  let lastSaved = step;
  const collapse = { warned: false };
  try {
    if (!pool.inProcess) {
      // The workers' own report of what they run with (their backend, --recompute).
      await pool.ready();
      const w = pool.workerSettings;
      io.out(
        `pool: ${w.length} worker threads on ${w[0]?.backend ?? backend.name}${w.every((x) => x.recompute) ? ', recomputing activations' : ''}`,
      );
    }
    while (step < config.maxSteps) {
      currentStep = step + 1;
      const t0 = performance.now();
      progress.phase(currentStep, 'generation', 0, 1);
      const batch = config.shuffleDataset
        ? nextBatch(task.items, cursor, config.promptsPerStep, { dropLast: true })
        : orderedBatch(task.items, cursor, config.promptsPerStep);
      const items = batch.items;
      let truncatedPrompts = 0;
      const promptIds = items.map((it) => {
        const ids = encodePrompt(tokenizer, it);
        if (config.maxPromptLength !== null && ids.length > config.maxPromptLength)
          truncatedPrompts++;
        return truncatePrompt(ids, config.maxPromptLength);
      });
      await pool.setWeights(currentStep, policy);
      const result = await grpoStep<TaskItem>(
        {
          policy,
          optimizer,
          rewards: specs,
          config: grpoCfg,
          rng,
          engine,
          ...(reference ? { reference } : {}),
        },
        { samples: items, promptIds },
      );
      const judged = judgeEpisodes(task, tokenizer, result.episodes, withModes);
      const stepMs = performance.now() - t0;
      const metrics: Record<string, number> = {
        ...result.metrics,
        ...rolloutMetrics(judged),
        ...workerTimeMetrics(pool.takeTimes(), pool.slots, stepMs),
        ...(config.maxPromptLength === null ? {} : { 'prompts/truncated': truncatedPrompts }),
        step_time: stepMs / 1000,
      };
      // Non-finite loss, gradient norm, mask-fit statistic or weights: stop before saving (finite.ts).
      const nonFinite = await checkStepFinite({
        step: currentStep,
        metrics,
        maskStatistics: judged.flatMap((j) => (j.fit ? [j.fit.h] : [])),
        model: policy,
        runDir: writer.dir,
        lastSaved,
      });
      if (nonFinite !== null) {
        writer.logMetrics(currentStep, metrics);
        writer.setStatus('failed', nonFinite.message);
        throw nonFinite;
      }
      warnIfCollapsed(io, currentStep, metrics, policy.config.vocab_size, collapse);
      cursor = batch.cursor;
      step = currentStep;
      if (evalTask !== null && config.evalSteps !== null && step % config.evalSteps === 0) {
        // Greedy, so it draws nothing from the run's RNG: the trajectory is the same without it.
        progress.phase(step, 'eval', 0, 1);
        const r = await greedyAccuracy(
          policy,
          tokenizer,
          evalTask,
          config.evalLimit,
          config.maxCompletionLength,
        );
        metrics['eval/accuracy'] = r.accuracy;
        metrics['eval/strict_rate'] = r.strictRate;
        io.out(
          `eval at step ${step}: accuracy ${r.accuracy.toFixed(3)} on ${Math.min(config.evalLimit, evalTask.items.length)} test problems (greedy)`,
        );
      }
      writer.logMetrics(step, metrics);
      const loggingStep = step % config.loggingSteps === 0 || step === config.maxSteps;
      if (config.logCompletions && loggingStep)
        io.err(completionLines(step, judged, config.numCompletionsToPrint).join('\n'));
      if (step % config.logSamplesEvery === 0) {
        writer.logSamples([
          ...sampleRecords(step, tokenizer, judged),
          ...((await probes?.record(step)) ?? []),
        ]);
      }
      allMetrics.push(metrics);
      quietStep = !loggingStep;
      progress.done(step, metrics, metrics['step_time'] ?? 0);
      quietStep = false;
      // Let pending signal handlers run: tfjs reads resolve as microtasks, so without a macrotask
      // turn a SIGINT would only be seen after the last step.
      await new Promise<void>((r) => setImmediate(r));
      if (step % config.checkpointEvery === 0 || step === config.maxSteps || control.stop) {
        progress.phase(step, 'checkpoint', 0, 1);
        await saveCheckpoint(writer, policy, await optimizer.getState(), {
          version: 1,
          step,
          rng: rng.state(),
          cursor,
        });
        lastSaved = step;
        if (config.saveTotalLimit !== null) pruneCheckpoints(writer, config.saveTotalLimit);
      }
      if (control.stop && step < config.maxSteps) {
        writer.setStatus('interrupted');
        io.out(
          `interrupted at step ${step}; checkpoint saved. Resume with: atmanrl train --resume ${writer.dir}`,
        );
        return {
          runDir: writer.dir,
          runId: writer.id,
          status: 'interrupted',
          lastStep: step,
          metrics: allMetrics,
        };
      }
    }
    writer.setStatus('finished');
    io.out(
      `finished ${step} steps. Open the run in the viewer: atmanrl view ${config.runsDir} ${writer.id}  (in this repository: pnpm viewer ${config.runsDir} ${writer.id})`,
    );
    return {
      runDir: writer.dir,
      runId: writer.id,
      status: 'finished',
      lastStep: step,
      metrics: allMetrics,
    };
  } catch (e) {
    const stop = nonFiniteStop(e, currentStep, writer.dir, lastSaved) ?? e;
    if ((stop !== e || !(e instanceof UsageError)) && writer.info.status === 'running') {
      try {
        writer.setStatus('failed', (stop as Error).message);
      } catch {
        // e.g. a full disk: report the original error, not this one
      }
    }
    throw stop;
  } finally {
    signals?.remove();
    writer.close();
    await pool.dispose();
    optimizer.dispose();
    reference?.dispose();
    policy.dispose();
  }
}

/**
 * Workers when `--workers` is not given: every core for the CPU backends (wasm runs one thread per
 * worker); 1 for GPU backends, where one process already uses the device and each worker would
 * hold a full copy of the model.
 */
export function defaultWorkers(backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? availableParallelism() : 1;
}
