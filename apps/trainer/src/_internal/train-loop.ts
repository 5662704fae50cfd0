// The GRPO training loop shared by `train`, `demo` and `experiment`: set up (or resume) a run,
// then per step: batch -> grpoStep (rollout, rewards incl. the saliency fit, advantages, update)
// -> metrics/samples to the run folder -> checkpoint. Exact resume restores weights, optimizer
// moments, RNG state, data cursor and step (trainer_state.json).
import { createCursor, type DataCursor, nextBatch } from '@atmanrl/datasets';
import { createOptimizer, type GrpoConfigInput, grpoStep } from '@atmanrl/grpo';
import { createRng, type LlamaModel, type Tokenizer } from '@atmanrl/model';
import type { SampleRecord, WithoutVersion } from '@atmanrl/runs';
import { RunWriter } from '@atmanrl/runs/node';
import type { CliIO } from '../cli-core.js';
import { ConfigSchema, type RunConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { readLatestCheckpoint, saveCheckpoint } from './checkpoint.js';
import { loadPolicy } from './model-source.js';
import { StepProgress } from './progress.js';
import { rewardSpecs, type SaliencyNotes } from './rewards.js';
import { createRun, setUpBackend } from './run-setup.js';
import { displayCompletion } from './spans.js';
import { encodePrompt, judge, loadTask, type Task, type TaskItem } from './task.js';

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

/** The GRPO options of a run (TRL names). */
export function grpoOptions(config: RunConfig, eosTokenIds: number[]): GrpoConfigInput {
  return {
    numGenerations: config.numGenerations,
    maxCompletionLength: config.maxCompletionLength,
    temperature: config.temperature,
    topP: config.topP,
    topK: config.topK,
    beta: config.beta,
    numIterations: config.numIterations,
    epsilon: config.epsilon,
    ...(config.epsilonHigh === null ? {} : { epsilonHigh: config.epsilonHigh }),
    lossType: config.lossType,
    scaleRewards: config.scaleRewards,
    maskTruncatedCompletions: config.maskTruncatedCompletions,
    learningRate: config.learningRate,
    lrSchedulerType: config.lrScheduler,
    warmupSteps: config.warmupSteps,
    maxSteps: config.maxSteps,
    weightDecay: config.weightDecay,
    maxGradNorm: config.maxGradNorm,
    gradientAccumulationSteps: config.gradientAccumulationSteps,
    eosTokenIds,
  };
}

function sampleRecords(
  step: number,
  task: Task,
  tokenizer: Tokenizer,
  items: TaskItem[],
  result: Awaited<ReturnType<typeof grpoStep<TaskItem>>>,
  notes: SaliencyNotes,
  config: RunConfig,
): WithoutVersion<SampleRecord>[] {
  return result.completions.map((c, i) => {
    const item = items[c.promptIndex]!;
    const { correct, split } = judge(task, c.text, item.sample.gold);
    const fit = notes.fits[i] ?? null;
    const tokSplit = notes.splits[i];
    const tokens = tokSplit ? displayCompletion(tokSplit, fit ? fit.relevance : null) : [];
    const rewards: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(c.rewards)) rewards[k] = Number.isFinite(v) ? v : null;
    return {
      step,
      promptIndex: c.promptIndex,
      completionIndex: c.generation,
      sampleId: item.sample.id,
      prompt: item.promptText ?? tokenizer.decode(c.promptIds, { skipSpecialTokens: false }),
      completion: c.text,
      gold: item.sample.gold,
      parsedAnswer: split.parsedAnswer,
      correct,
      truncated: c.truncated,
      cotRange: split.cotRange,
      answerRange: split.answerRange,
      rewards,
      reward: Number.isFinite(c.reward) ? c.reward : 0,
      advantage: Number.isFinite(c.advantage) ? c.advantage : 0,
      completionTokens: c.completionIds.length,
      tokens,
      ...(fit && config.saliencyReward
        ? {
            saliency: {
              H: fit.h,
              reward: Number.isFinite(c.rewards['saliency'] ?? Number.NaN)
                ? c.rewards['saliency']!
                : 0,
            },
          }
        : {}),
    };
  });
}

/** Runs (or resumes) GRPO training as configured. */
export async function runTraining(
  configIn: RunConfig,
  io: CliIO,
  options: TrainLoopOptions,
): Promise<TrainOutcome> {
  let config = configIn;
  let run: RunWriter;
  let resumeFrom: Awaited<ReturnType<typeof readLatestCheckpoint>> | null = null;
  if (config.resume !== null) {
    try {
      run = RunWriter.open(config.resume);
    } catch (e) {
      throw new UsageError('RESUME_FAILED', `--resume ${config.resume}: ${(e as Error).message}`);
    }
    const stored = ConfigSchema.safeParse(run.info.config);
    if (!stored.success) {
      throw new UsageError(
        'RESUME_FAILED',
        `--resume ${config.resume}: run.json's config does not match this version of atmanrl`,
      );
    }
    // Continue with the run's own resolved config. Explicit flags may change only what does not
    // alter the trajectory so far: maxSteps, checkpointing, logging and the backend.
    const resumable: (keyof RunConfig)[] = [
      'maxSteps',
      'checkpointEvery',
      'logSamplesEvery',
      'backend',
    ];
    const next = { ...(stored.data as RunConfig), resume: config.resume };
    for (const k of resumable) {
      if (options.explicit?.has(k)) (next as Record<string, unknown>)[k] = configIn[k];
    }
    config = next;
    resumeFrom = await readLatestCheckpoint(run);
  }

  const backend = await setUpBackend(config, io);

  const task = await loadTask(config);
  const needsChatTemplate = task.usesChatTemplate;
  // The policy is the checkpoint when resuming, else --model. The frozen KL reference is always
  // the starting model, so --model is loaded a second time only when resuming with beta > 0.
  const policy: LlamaModel = (
    await loadPolicy(resumeFrom?.dir ?? config.model, { needsChatTemplate })
  ).model;
  let reference: LlamaModel | undefined;
  if (config.beta > 0) {
    reference =
      resumeFrom === null
        ? policy.clone({ trainable: false })
        : (await loadPolicy(config.model, { needsChatTemplate, trainable: false })).model;
  }
  const tokenizer = policy.tokenizer!; // loadPolicy guarantees one
  if (resumeFrom === null) {
    run = createRun(config, options.command, backend, config.maxSteps);
  } else {
    run!.truncateAfter(resumeFrom.state.step);
    run!.update({ status: 'running', totalSteps: config.maxSteps });
  }
  const writer = run!;
  io.out(`run: ${writer.dir}${resumeFrom ? ` (resumed at step ${resumeFrom.state.step})` : ''}`);

  const eos = [...new Set([...tokenizer.eosTokenIds, ...policy.config.eos_token_id])];
  const grpoCfg = grpoOptions(config, eos);
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
  const onSignal = () => {
    if (control.stop) return;
    control.stop = true;
    io.err(
      'atmanrl: stop requested; finishing this step, then checkpointing (further signals are ignored until then)',
    );
  };
  const handle = options.handleSignals ?? true;
  if (handle) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const progress = new StepProgress(io, step + 1, config.maxSteps);
  const notes: SaliencyNotes = { splits: [], fits: [] };
  let currentStep = step + 1;
  const specs = rewardSpecs(policy, tokenizer, task, config, notes, (d, t) =>
    progress.phase(currentStep, 'saliency fit', d, t),
  );
  const allMetrics: Record<string, number>[] = [];
  let lastSaved = step;
  try {
    while (step < config.maxSteps) {
      currentStep = step + 1;
      const t0 = performance.now();
      progress.phase(currentStep, 'generation', 0, 1);
      const batch = nextBatch(task.items, cursor, config.promptsPerStep, { dropLast: true });
      const items = batch.items;
      const promptIds = items.map((it) => encodePrompt(tokenizer, it));
      notes.splits = [];
      notes.fits = [];
      const result = await grpoStep<TaskItem>(
        {
          policy,
          optimizer,
          rewards: specs,
          config: grpoCfg,
          rng,
          ...(reference ? { reference } : {}),
        },
        { samples: items, promptIds },
      );
      const outcome = result.completions.map((c) => c.rewards['outcome'] ?? -1);
      const metrics: Record<string, number> = {
        ...result.metrics,
        accuracy: outcome.filter((r) => r === 0).length / Math.max(1, outcome.length),
        step_time: (performance.now() - t0) / 1000,
      };
      if (!Number.isFinite(metrics['loss'] ?? Number.NaN)) {
        const msg = `step ${currentStep}: the loss is ${metrics['loss']} (not finite). The run stopped; the last good checkpoint is step ${lastSaved} (resume with --resume ${writer.dir}). Lower --learning-rate or set --max-grad-norm.`;
        writer.logMetrics(currentStep, metrics);
        writer.setStatus('failed', msg);
        throw new UsageError('NON_FINITE_LOSS', msg);
      }
      cursor = batch.cursor;
      step = currentStep;
      writer.logMetrics(step, metrics);
      if (step % config.logSamplesEvery === 0) {
        writer.logSamples(sampleRecords(step, task, tokenizer, items, result, notes, config));
      }
      allMetrics.push(metrics);
      progress.done(step, metrics, metrics['step_time'] ?? 0);
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
      `finished ${step} steps. Open the run in the viewer: pnpm viewer ${config.runsDir} ${writer.id}  (or: atmanrl view ${config.runsDir} ${writer.id})`,
    );
    return {
      runDir: writer.dir,
      runId: writer.id,
      status: 'finished',
      lastStep: step,
      metrics: allMetrics,
    };
  } catch (e) {
    if (!(e instanceof UsageError) && writer.info.status === 'running') {
      writer.setStatus('failed', (e as Error).message);
    }
    throw e;
  } finally {
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    optimizer.dispose();
    reference?.dispose();
    policy.dispose();
  }
}
