// Opening a training run (GRPO-Zero's set-up before its loop): resume or create the run folder,
// the backend, the task, the policy and its frozen reference, the optimizer and the run's state
// (step, RNG, data cursor), the worker pool, the reward specs and the probes. `close()` releases
// all of it. What one step does is train-step.ts.
import { availableParallelism } from 'node:os';
import { createCursor, type DataCursor } from '@atmanrl/datasets';
import {
  type AdamW,
  createOptimizer,
  type GrpoConfigInput,
  type RewardSpec,
  type RolloutEngine,
} from '@atmanrl/grpo';
import { createRng, type LlamaModel, type Rng, type Tokenizer } from '@atmanrl/model';
import type { ReadProblem } from '@atmanrl/runs';
import type { RunWriter } from '@atmanrl/runs/node';
import type { CliIO } from '../cli-core.js';
import type { RunConfig } from '../config.js';
import type { readLatestCheckpoint } from './checkpoint.js';
import { checkMemoryBudget } from './memory-budget.js';
import { loadPolicy } from './model-source.js';
import {
  PooledRolloutEngine,
  planWorkers,
  pooledFit,
  WorkerPool,
  type WorkerPoolOptions,
} from './pool/index.js';
import { createProbes } from './probes.js';
import { StepProgress } from './progress.js';
import type { QueuePool } from './queue/queue-pool.js';
import { openResume } from './resume.js';
import { rewardSpecs } from './rewards.js';
import { createRun, setUpBackend } from './run-setup.js';
import { loadTask, type Task, type TaskItem } from './task.js';
import { defaultWorkers, grpoOptions, stepsForEpochs, truncatePrompt } from './train-options.js';

/** The mutable state of a run: what a checkpoint saves, plus the step in progress. */
export interface RunState {
  /** Last finished step. */
  step: number;
  /** The step being run (for error messages). */
  currentStep: number;
  /** Last checkpointed step. */
  lastSaved: number;
  rng: Rng;
  cursor: DataCursor;
}

/** An open training run. */
export interface OpenedRun {
  /** The resolved config (resume policy applied; `maxSteps` from `--num-train-epochs`). */
  config: RunConfig;
  io: CliIO;
  /** The backend's name (e.g. `'wasm'`). */
  backend: string;
  writer: RunWriter;
  resumed: boolean;
  task: Task;
  /** The test split for `--eval-steps`, or null. */
  evalTask: Task | null;
  policy: LlamaModel;
  reference: LlamaModel | undefined;
  tokenizer: Tokenizer;
  optimizer: AdamW;
  grpo: GrpoConfigInput;
  /** Where the jobs run: this process's worker threads, or `atmanrl worker`s through `--queue`. */
  pool: WorkerPool | QueuePool;
  engine: RolloutEngine;
  specs: RewardSpec<TaskItem>[];
  probes: ReturnType<typeof createProbes> | null;
  progress: StepProgress;
  /** When on, the progress line of the step is not printed (`--logging-steps`). */
  quiet: { on: boolean };
  collapse: { warned: boolean };
  state: RunState;
  /** Releases the run: lock, pool, optimizer and models. */
  close(): Promise<void>;
}

type Checkpoint = Awaited<ReturnType<typeof readLatestCheckpoint>>;

/**
 * The stderr line of a problem `truncateAfter` found on resume: a torn last line and steps whose
 * metrics were lost (`TORN_LINE`, `MISSING_STEPS`) say what happened themselves; any other
 * problem is a damaged line that was dropped.
 */
function resumeWarning(p: ReadProblem): string {
  return p.code === 'TORN_LINE' || p.code === 'MISSING_STEPS'
    ? `atmanrl: warning: ${p.message}`
    : `atmanrl: warning: dropped a damaged line: ${p.message}`;
}

/**
 * The pool the run's jobs run on. Rollouts and mask fits run as jobs; the cut into jobs and their
 * seeds do not depend on the worker count, so results do not either (1 worker = in this thread).
 * Without `--queue`: this process's worker threads, capped by planWorkers (more threads than a
 * step has jobs would idle, each holding a model copy; what it says is printed for an explicit
 * --workers, the default, every core, is capped silently, and the `pool:` line says how many
 * threads started). With `--queue`: the same jobs on `atmanrl worker` processes through Redis
 * (queue/queue-pool.ts, loaded only then); how many there are is up to the machines that run them.
 */
async function openPool(
  config: RunConfig,
  io: CliIO,
  at: {
    backend: WorkerPoolOptions['backend'];
    modelDir: string;
    run: RunWriter;
    progress: StepProgress;
    state: RunState;
  },
): Promise<WorkerPool | QueuePool> {
  if (config.queue !== null) {
    if (config.workers !== null)
      io.err(
        `atmanrl: warning: --workers ${config.workers} does not apply with --queue: the jobs run on the atmanrl worker processes (each runs --concurrency jobs at once)`,
      );
    const { QueuePool } = await import('./queue/queue-pool.js');
    return new QueuePool({
      url: config.queue,
      run: at.run.id,
      timeoutS: config.queueTimeout,
      ...(config.queueWeightsDir === null ? {} : { weightsDir: config.queueWeightsDir }),
      log: (line) => io.err(`atmanrl: ${line}`),
      onWait: (line) => at.progress.wait(at.state.currentStep, line),
    });
  }
  const plan = planWorkers({
    requested: config.workers,
    fallback: defaultWorkers(at.backend),
    jobsPerBatch: config.promptsPerStep,
    cores: availableParallelism(),
  });
  if (config.workers !== null) for (const m of plan.messages) io.err(`atmanrl: warning: ${m}`);
  return new WorkerPool({
    workers: plan.workers,
    modelDir: at.modelDir,
    backend: at.backend,
    recompute: config.recompute,
  });
}

/** Opens (or resumes) the run a config describes; on failure nothing stays held. */
export async function openRun(
  given: RunConfig,
  io: CliIO,
  options: { command: string; explicit?: ReadonlySet<string> },
): Promise<OpenedRun> {
  let config = given;
  let writer: RunWriter | undefined;
  let from: Checkpoint | null = null;
  if (config.resume !== null) {
    // Resume policy, lock, checkpoint checks and run.json history: resume.ts.
    const resumed = await openResume(given, options.explicit ?? new Set(), options.command);
    ({ run: writer, config, checkpoint: from } = resumed);
    for (const note of resumed.notes) io.err(`atmanrl: ${note}`);
  }
  const held: { dispose(): void }[] = [];
  // Worker threads or Redis connections keep the process alive: closed on a failed opening too.
  let opened: WorkerPool | QueuePool | undefined;
  try {
    const backend = await setUpBackend(config, io);
    const task = await loadTask(config);
    const needsChatTemplate = task.usesChatTemplate;
    // The policy is the checkpoint when resuming, else --model. The frozen KL reference is always
    // the starting model, so --model is loaded a second time only when resuming with beta > 0.
    // A resumed run's frozen reference is the commit the run started from, not where a branch
    // (e.g. `main`) points now.
    const revision = writer?.info.modelSource?.revision ?? config.revision;
    const loaded = await loadPolicy(from?.dir ?? config.model, { needsChatTemplate, revision, io });
    const policy = loaded.model;
    held.push(policy);
    // --recompute: the update's and the in-thread fits' forward passes (gradients unchanged)
    policy.recompute = config.recompute;
    let reference: LlamaModel | undefined;
    if (config.beta > 0) {
      reference =
        from === null
          ? policy.clone({ trainable: false })
          : (await loadPolicy(config.model, { needsChatTemplate, trainable: false, revision, io }))
              .model;
      held.push(reference);
    }
    const tokenizer = policy.tokenizer!; // loadPolicy guarantees one
    // Out of heap is an error before the first step, not a crash (or garbage) in the middle of one.
    const longestPrompt = Math.max(
      1,
      ...task.items
        .slice(0, 512)
        .map(
          (it) => truncatePrompt(task.encodePrompt(tokenizer, it), config.maxPromptLength).length,
        ),
    );
    if (config.numTrainEpochs !== null && from === null) {
      const { promptsPerStep, numTrainEpochs } = config;
      const maxSteps = stepsForEpochs(task.items.length, promptsPerStep, numTrainEpochs);
      io.err(
        `atmanrl: --num-train-epochs ${numTrainEpochs}: ${task.items.length} prompts at ${promptsPerStep} per step = ${Math.floor(task.items.length / promptsPerStep)} steps per epoch, so --max-steps ${maxSteps}`,
      );
      config = { ...config, maxSteps };
    }
    const evalTask = config.evalSteps === null ? null : await loadTask(config, 'test');
    const eos = [...new Set([...tokenizer.eosTokenIds, ...policy.config.eos_token_id])];
    const grpo = grpoOptions(config, eos);
    for (const w of checkMemoryBudget(config, policy.config, backend.name, longestPrompt))
      io.err(`atmanrl: warning: ${w}`);
    if (from === null) {
      writer = createRun(config, options.command, backend, config.maxSteps, loaded.source);
    } else {
      for (const p of writer!.truncateAfter(from.state.step)) io.err(resumeWarning(p));
      writer!.update({
        status: 'running',
        totalSteps: config.maxSteps,
        backend: {
          name: backend.name,
          detail: backend.detail,
          ...(backend.adapter ? { adapter: backend.adapter } : {}),
        },
      });
    }
    const run = writer!;
    io.out(`run: ${run.dir}${from ? ` (resumed at step ${from.state.step})` : ''}`);
    const optimizer = createOptimizer(policy, grpo);
    held.push(optimizer);
    const state: RunState = {
      step: 0,
      currentStep: 1,
      lastSaved: 0,
      rng: createRng(config.seed),
      cursor: createCursor(config.seed),
    };
    if (from !== null) {
      if (from.optimizerState) optimizer.loadState(from.optimizerState);
      state.rng = createRng(from.state.rng);
      state.cursor = from.state.cursor;
      state.step = state.lastSaved = from.state.step;
      state.currentStep = state.step + 1;
    }
    const quiet = { on: false };
    const progressIO: CliIO = {
      ...io,
      out: (line) => {
        if (!quiet.on) io.out(line);
      },
    };
    const progress = new StepProgress(progressIO, state.step + 1, config.maxSteps);
    const pool = await openPool(config, io, {
      backend: backend.name,
      modelDir: loaded.dir,
      run,
      progress,
      state,
    });
    opened = pool;
    const itemsPerJob = config.numGenerations;
    const specs = rewardSpecs(policy, tokenizer, task, config, {
      fitMasks: (fitItems, o) =>
        pooledFit(pool, fitItems, {
          ...o,
          itemsPerJob,
          onProgress: (d, t) => progress.phase(state.currentStep, 'saliency fit', d, t),
        }),
    });
    let probes: ReturnType<typeof createProbes> | null = null;
    if (config.probePrompts > 0) {
      try {
        probes = createProbes(policy, tokenizer, await loadTask(config, 'test'), config);
      } catch (e) {
        // Probes are a view aid: a task without a test split trains without them.
        io.err(`atmanrl: warning: no probe prompts (${(e as Error).message.split('\n')[0]})`);
      }
    }
    return {
      config,
      io,
      backend: backend.name,
      writer: run,
      resumed: from !== null,
      task,
      evalTask,
      policy,
      reference,
      tokenizer,
      optimizer,
      grpo,
      pool,
      engine: new PooledRolloutEngine(
        pool,
        config.generationBatchSize === null
          ? {}
          : { generationBatchSize: config.generationBatchSize },
      ),
      specs,
      probes,
      progress,
      quiet,
      collapse: { warned: false },
      state,
      async close() {
        run.close();
        await pool.dispose();
        for (const h of held.reverse()) h.dispose();
      },
    };
  } catch (e) {
    writer?.close(); // a resumed run holds its lock: release it before reporting
    await opened?.dispose();
    for (const h of held.reverse()) h.dispose();
    throw e;
  }
}
