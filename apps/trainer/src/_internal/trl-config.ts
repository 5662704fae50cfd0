// TRL `GRPOConfig` files: the one table of TRL (and Transformers `TrainingArguments`) key → our
// option, with the conversion and a note. The table drives loading (`--config`), the start-up
// warnings for keys we accept but ignore, the errors for unknown snake_case keys and the README's
// "Coming from TRL" table, so the four cannot disagree.
import { closest, fromFlag, OPTIONS } from '../options.js';

/** What loading a TRL key needs besides its value. */
export interface TrlContext {
  /** The config file (for messages). */
  file: string;
  /** The whole file, keys as written (for keys whose meaning depends on others). */
  raw: Readonly<Record<string, unknown>>;
  /** μ of the file (TRL `num_iterations`, or our `numIterations`; TRL's default 1). */
  mu: number;
  warn(message: string): void;
  fail(message: string): void;
}

/** One row of {@link TRL_KEYS}. */
export interface TrlKeySpec {
  /** TRL / Transformers name; a trailing `*` matches every key with that prefix. */
  trl: string;
  /** Our options it sets; empty = accepted and ignored (a start-up warning with the note). */
  ours: readonly string[];
  /** Value → our keys; absent = the value as is, for `ours[0]`. */
  convert?: (value: unknown, ctx: TrlContext) => Record<string, unknown>;
  /** TRL's meaning where it differs (mapped keys), or what we do instead (ignored keys). */
  note: string;
}

/** TRL counts these in optimiser updates; one of our steps is μ = numIterations updates. */
function updatesToSteps(trl: string, ours: string) {
  return (value: unknown, ctx: TrlContext): Record<string, unknown> => {
    if (typeof value !== 'number' || !Number.isInteger(value) || ctx.mu === 1)
      return { [ours]: value };
    const steps = Math.ceil(value / ctx.mu);
    if (steps * ctx.mu !== value)
      ctx.warn(
        `${ctx.file}: ${trl} ${value} counts optimiser updates (TRL); with num_iterations ${ctx.mu} that is ${value / ctx.mu} GRPO steps, rounded up to ${ours} ${steps}`,
      );
    return { [ours]: steps };
  };
}

const BATCH_NOTE =
  'TRL counts completions per device micro-batch; atmanrl counts prompts per step: promptsPerStep = per_device_train_batch_size × gradient_accumulation_steps / num_generations (one process)';
const STEPS_NOTE = 'TRL counts optimiser updates; divided by num_iterations (μ updates per step)';

/**
 * Every TRL `GRPOConfig` key atmanrl knows: mapped ones (our option, conversion, TRL's meaning
 * where it differs) and ignored ones (`ours` empty, with what atmanrl does instead).
 */
export const TRL_KEYS: readonly TrlKeySpec[] = [
  // batch geometry (translated together, see translateTrlConfig)
  { trl: 'num_generations', ours: ['numGenerations'], note: 'G, completions per prompt' },
  { trl: 'per_device_train_batch_size', ours: ['promptsPerStep'], note: BATCH_NOTE },
  {
    trl: 'gradient_accumulation_steps',
    ours: ['gradientAccumulationSteps'],
    note: 'same meaning: micro-batches per update',
  },
  {
    trl: 'generation_batch_size',
    ours: ['promptsPerStep'],
    note: 'completions per generation; must equal per_device_train_batch_size × gradient_accumulation_steps (one generation per step)',
  },
  {
    trl: 'steps_per_generation',
    ours: ['gradientAccumulationSteps'],
    note: 'must equal gradient_accumulation_steps: atmanrl generates once per step',
  },
  // optimiser and schedule
  { trl: 'learning_rate', ours: ['learningRate'], note: 'AdamW peak learning rate' },
  { trl: 'weight_decay', ours: ['weightDecay'], note: 'AdamW decoupled weight decay' },
  {
    trl: 'lr_scheduler_type',
    ours: ['lrScheduler'],
    note: 'constant, constant_with_warmup, linear, cosine',
  },
  { trl: 'warmup_steps', ours: ['warmupSteps'], note: 'counted in optimiser updates, as in TRL' },
  { trl: 'warmup_ratio', ours: ['warmupRatio'], note: 'fraction of all optimiser updates' },
  { trl: 'max_grad_norm', ours: ['maxGradNorm'], note: 'global-norm clip' },
  {
    trl: 'max_steps',
    ours: ['maxSteps'],
    convert: (v, ctx) => {
      if (v === -1 || v === null) return {}; // TRL: -1 = use num_train_epochs
      if ('num_train_epochs' in ctx.raw)
        ctx.warn(
          `${ctx.file}: max_steps ${String(v)} overrides num_train_epochs (as in TRL); num_train_epochs is ignored`,
        );
      return updatesToSteps('max_steps', 'maxSteps')(v, ctx);
    },
    note: `${STEPS_NOTE}; -1 = use num_train_epochs`,
  },
  {
    trl: 'num_train_epochs',
    ours: ['numTrainEpochs'],
    convert: (v, ctx) =>
      typeof ctx.raw['max_steps'] === 'number' && ctx.raw['max_steps'] > 0
        ? {}
        : { numTrainEpochs: v },
    note: 'passes over the training prompts; max_steps > 0 wins, as in TRL',
  },
  // loss
  { trl: 'beta', ours: ['beta'], note: 'KL weight (k3)' },
  { trl: 'epsilon', ours: ['epsilon'], note: 'lower clip ε' },
  { trl: 'epsilon_high', ours: ['epsilonHigh'], note: 'upper clip ε; null = epsilon' },
  { trl: 'delta', ours: ['delta'], note: 'two-sided clipping bound; null = off' },
  { trl: 'loss_type', ours: ['lossType'], note: 'grpo, bnpo, dr_grpo, dapo' },
  {
    trl: 'scale_rewards',
    ours: ['scaleRewards'],
    convert: (v) => ({ scaleRewards: v === true ? 'group' : v === false ? 'none' : v }),
    note: "TRL's true = 'group', false = 'none'",
  },
  {
    trl: 'importance_sampling_level',
    ours: ['importanceSamplingLevel'],
    note: "'token' or 'sequence' (GSPO)",
  },
  {
    trl: 'top_entropy_quantile',
    ours: ['topEntropyQuantile'],
    note: 'train on the top-ρ entropy tokens; 1 = all',
  },
  { trl: 'num_iterations', ours: ['numIterations'], note: 'μ, updates per generated batch' },
  {
    trl: 'mask_truncated_completions',
    ours: ['maskTruncatedCompletions'],
    note: 'exclude truncated completions from the loss',
  },
  {
    trl: 'reward_weights',
    ours: ['outcomeWeight', 'saliencyWeight'],
    convert: (v, ctx) => {
      if (
        !Array.isArray(v) ||
        v.length < 1 ||
        v.length > 2 ||
        !v.every((w) => typeof w === 'number' && Number.isFinite(w))
      ) {
        ctx.fail(
          `${ctx.file}: reward_weights: expected a list of 1 or 2 numbers in reward-function order [outcome, saliency], got ${JSON.stringify(v)}`,
        );
        return {};
      }
      return v.length === 1
        ? { outcomeWeight: v[0] }
        : { outcomeWeight: v[0], saliencyWeight: v[1] };
    },
    note: 'list in reward-function order: [outcome, saliency]',
  },
  // generation
  {
    trl: 'max_completion_length',
    ours: ['maxCompletionLength'],
    note: 'max new tokens per completion',
  },
  {
    trl: 'max_prompt_length',
    ours: ['maxPromptLength'],
    note: 'prompts longer than this are truncated from the left; null = off',
  },
  { trl: 'temperature', ours: ['temperature'], note: 'sampling temperature' },
  { trl: 'top_p', ours: ['topP'], note: 'nucleus sampling' },
  {
    trl: 'top_k',
    ours: ['topK'],
    convert: (v) => ({ topK: v === null ? 0 : v }),
    note: "TRL's null (off) = 0",
  },
  // data
  { trl: 'shuffle_dataset', ours: ['shuffleDataset'], note: 'reshuffle the prompts every epoch' },
  { trl: 'seed', ours: ['seed'], note: 'every random source' },
  // run, logging, checkpoints, evaluation
  {
    trl: 'output_dir',
    ours: ['runsDir'],
    note: 'folder of run folders; each run gets its own subfolder',
  },
  { trl: 'run_name', ours: ['runName'], note: 'human name in the run id' },
  {
    trl: 'save_steps',
    ours: ['checkpointEvery'],
    convert: updatesToSteps('save_steps', 'checkpointEvery'),
    note: STEPS_NOTE,
  },
  {
    trl: 'save_total_limit',
    ours: ['saveTotalLimit'],
    note: 'keep the newest N checkpoints; the latest is never deleted',
  },
  {
    trl: 'logging_steps',
    ours: ['loggingSteps'],
    convert: updatesToSteps('logging_steps', 'loggingSteps'),
    note: `${STEPS_NOTE}; metrics.jsonl still gets every step`,
  },
  {
    trl: 'log_completions',
    ours: ['logCompletions'],
    note: 'print completions to stderr at logging steps',
  },
  {
    trl: 'num_completions_to_print',
    ours: ['numCompletionsToPrint'],
    note: 'null = all of the step',
  },
  {
    trl: 'eval_steps',
    ours: ['evalSteps'],
    convert: updatesToSteps('eval_steps', 'evalSteps'),
    note: `${STEPS_NOTE}; greedy accuracy on the first evalLimit test problems, logged as eval/*`,
  },
  // accepted and ignored: what atmanrl does instead
  {
    trl: 'use_vllm',
    ours: [],
    note: 'generation runs in TensorFlow.js worker threads (--workers)',
  },
  { trl: 'vllm_*', ours: [], note: 'no vLLM; generation runs in TensorFlow.js workers' },
  { trl: 'bf16', ours: [], note: 'float32 throughout' },
  { trl: 'fp16', ours: [], note: 'float32 throughout' },
  { trl: 'tf32', ours: [], note: 'float32 throughout' },
  {
    trl: 'gradient_checkpointing',
    ours: [],
    note: 'not available; lower promptsPerStep or raise gradientAccumulationSteps',
  },
  { trl: 'gradient_checkpointing_kwargs', ours: [], note: 'not available' },
  {
    trl: 'report_to',
    ours: [],
    note: 'metrics go to the run folder (metrics.jsonl); open it with atmanrl view',
  },
  { trl: 'logging_dir', ours: [], note: 'logs live in the run folder under runsDir' },
  { trl: 'logging_strategy', ours: [], note: 'logging is by steps (loggingSteps)' },
  { trl: 'logging_first_step', ours: [], note: 'every logging step is printed' },
  { trl: 'eval_strategy', ours: [], note: 'evaluation runs every evalSteps steps when set' },
  { trl: 'save_strategy', ours: [], note: 'checkpoints every checkpointEvery steps' },
  {
    trl: 'save_only_model',
    ours: [],
    note: 'checkpoints always hold optimizer and RNG state (exact resume)',
  },
  { trl: 'per_device_eval_batch_size', ours: [], note: 'evaluation batches are sized internally' },
  {
    trl: 'model_init_kwargs',
    ours: [],
    note: 'the model is read from --model (Hugging Face Llama folder)',
  },
  { trl: 'sync_ref_model', ours: [], note: 'the KL reference is always the starting model' },
  { trl: 'ref_model_*', ours: [], note: 'the KL reference is always the starting model' },
  { trl: 'disable_dropout', ours: [], note: 'the models have no dropout' },
  { trl: 'use_liger_loss', ours: [], note: 'the loss is computed by @atmanrl/grpo' },
  { trl: 'ds3_gather_for_generation', ours: [], note: 'no DeepSpeed' },
  { trl: 'deepspeed', ours: [], note: 'no DeepSpeed; one process' },
  { trl: 'fsdp*', ours: [], note: 'no FSDP; one process' },
  { trl: 'ddp_*', ours: [], note: 'one process' },
  {
    trl: 'push_to_hub',
    ours: [],
    note: 'nothing is uploaded; checkpoints are Hugging Face folders under the run',
  },
  { trl: 'hub_*', ours: [], note: 'nothing is uploaded' },
  { trl: 'torch_*', ours: [], note: 'TensorFlow.js, not PyTorch' },
  { trl: 'dataloader_*', ours: [], note: 'prompts are batched in process' },
  { trl: 'remove_unused_columns', ours: [], note: 'tasks are built in (--dataset)' },
  { trl: 'optim', ours: [], note: 'AdamW' },
  { trl: 'adam_beta1', ours: [], note: 'AdamW β1 0.9 (= TRL default)' },
  { trl: 'adam_beta2', ours: [], note: 'AdamW β2 0.999 (= TRL default)' },
  { trl: 'adam_epsilon', ours: [], note: 'AdamW ε 1e-8 (= TRL default)' },
  { trl: 'lr_scheduler_kwargs', ours: [], note: 'the schedules take no extra arguments' },
  {
    trl: 'overwrite_output_dir',
    ours: [],
    note: 'every run gets a new folder; continue one with --resume',
  },
  { trl: 'resume_from_checkpoint', ours: [], note: 'use --resume <run folder>' },
  { trl: 'do_train', ours: [], note: 'the command decides (atmanrl train)' },
  { trl: 'do_eval', ours: [], note: 'the command decides (atmanrl eval), or evalSteps' },
  { trl: 'generation_kwargs', ours: [], note: 'sampling is temperature / top_p / top_k' },
  { trl: 'repetition_penalty', ours: [], note: 'not available' },
  { trl: 'min_p', ours: [], note: 'not available' },
  { trl: 'cache_implementation', ours: [], note: 'the KV cache is built in' },
  { trl: 'use_transformers_paged', ours: [], note: 'not applicable' },
  { trl: 'log_level', ours: [], note: 'not applicable' },
  { trl: 'wandb_log_unique_prompts', ours: [], note: 'no wandb; see the viewer' },
  { trl: 'multi_objective_aggregation', ours: [], note: "sum_then_normalize (TRL's default)" },
  { trl: 'reward_model_*', ours: [], note: 'rewards are outcome and saliency' },
];

const EXACT = new Map(TRL_KEYS.filter((k) => !k.trl.endsWith('*')).map((k) => [k.trl, k]));
const PREFIXES = TRL_KEYS.filter((k) => k.trl.endsWith('*'));

/** The table row of a TRL key (exact name, else a prefix row), or undefined. */
export function trlKey(name: string): TrlKeySpec | undefined {
  return EXACT.get(name) ?? PREFIXES.find((p) => name.startsWith(p.trl.slice(0, -1)));
}

/** True for snake_case names (`num_generations`), which are never our own keys. */
export function isSnakeCase(key: string): boolean {
  return /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(key);
}

const BATCH_KEYS = [
  'per_device_train_batch_size',
  'generation_batch_size',
  'steps_per_generation',
] as const;

/** What {@link translateTrlConfig} returns. */
export interface TrlTranslation {
  /** The file's options under our keys. */
  config: Record<string, unknown>;
  /** Start-up warnings ("ignored: X — what we do instead", rounding notes). */
  warnings: string[];
  /** Errors: unknown snake_case keys (with a did-you-mean), a key in both forms, bad batch sizes. */
  problems: string[];
  /** Our key -> the file's key that set it and the file's value (for messages about the value). */
  origin: Record<string, { key: string; value: unknown }>;
}

/** Unknown keys listed one by one (with a did-you-mean) before the rest is only counted. */
export const MAX_LISTED_UNKNOWN = 20;

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/**
 * Translates a config file's mapping: camelCase and kebab-case keys as they are, TRL snake_case
 * keys by {@link TRL_KEYS}. A key given both ways (`learning_rate` and `learningRate`) is an error.
 */
export function translateTrlConfig(
  raw: Readonly<Record<string, unknown>>,
  file: string,
): TrlTranslation {
  const warnings: string[] = [];
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  const origin: TrlTranslation['origin'] = {};
  /** Our key -> the key in the file that set it (to report both forms). */
  const setBy = new Map<string, string>();
  const set = (ours: string, value: unknown, by: string) => {
    const other = setBy.get(ours);
    if (other !== undefined && other !== by) {
      problems.push(
        `${file}: ${other} and ${by} both set ${ours}; keep one of them (TRL's snake_case or atmanrl's camelCase)`,
      );
      return;
    }
    setBy.set(ours, by);
    config[ours] = value;
    origin[ours] = { key: by, value: raw[by] };
  };
  const numIterations = raw['num_iterations'] ?? raw['numIterations'] ?? raw['num-iterations'];
  const ctx: TrlContext = {
    file,
    raw,
    mu: positiveInt(numIterations) ? numIterations : 1,
    warn: (m) => warnings.push(m),
    fail: (m) => problems.push(m),
  };
  // TRL's names: snake_case, and one-word TRL keys that are not ours (bf16, optim, ...); a name
  // both use (beta, epsilon, seed, ...) means the same in both.
  const ownKeys = new Set<string>(OPTIONS.map((o) => o.key));
  const isTrl = (k: string) => isSnakeCase(k) || (!ownKeys.has(k) && trlKey(k) !== undefined);
  // Own keys first, so a TRL key for the same option reports both.
  for (const [k, v] of Object.entries(raw)) {
    if (isTrl(k)) continue;
    set(k.includes('-') ? fromFlag(k) : k, v, k);
  }
  const known = TRL_KEYS.map((k) => k.trl).filter((k) => !k.endsWith('*'));
  let unknown = 0;
  for (const [k, v] of Object.entries(raw)) {
    if (!isTrl(k)) continue;
    const spec = trlKey(k);
    if (spec === undefined) {
      if (++unknown > MAX_LISTED_UNKNOWN) continue;
      const hint = closest(k, known);
      problems.push(
        `${file}: ${k}: unknown option${hint ? ` (did you mean ${hint}?)` : ''}; TRL keys atmanrl reads are listed in the trainer README ("Coming from TRL")`,
      );
      continue;
    }
    if (spec.ours.length === 0) {
      warnings.push(`ignored: ${k} — ${spec.note}`);
      continue;
    }
    if ((BATCH_KEYS as readonly string[]).includes(k)) continue; // translateBatch
    const out = spec.convert ? spec.convert(v, ctx) : { [spec.ours[0]!]: v };
    for (const [ours, value] of Object.entries(out)) set(ours, value, k);
  }
  if (unknown > MAX_LISTED_UNKNOWN)
    problems.push(
      `${file}: ${unknown - MAX_LISTED_UNKNOWN} more unknown TRL-style keys (${unknown} in all; the first ${MAX_LISTED_UNKNOWN} are listed)`,
    );
  translateBatch(raw, ctx, set);
  return { config, warnings, problems, origin };
}

/**
 * promptsPerStep from TRL's completion counts: per_device_train_batch_size (completions per
 * micro-batch) × gradient_accumulation_steps / num_generations, one process.
 */
function translateBatch(
  raw: Readonly<Record<string, unknown>>,
  ctx: TrlContext,
  set: (ours: string, value: unknown, by: string) => void,
): void {
  const perDevice = raw['per_device_train_batch_size'];
  const genBatch = raw['generation_batch_size'];
  const stepsPerGen = raw['steps_per_generation'];
  if (perDevice === undefined && genBatch === undefined && stepsPerGen === undefined) return;
  const g = raw['num_generations'] ?? raw['numGenerations'] ?? raw['num-generations'] ?? 8;
  const ga =
    raw['gradient_accumulation_steps'] ??
    raw['gradientAccumulationSteps'] ??
    raw['gradient-accumulation-steps'] ??
    1;
  const given = {
    per_device_train_batch_size: perDevice,
    generation_batch_size: genBatch,
    steps_per_generation: stepsPerGen,
  };
  for (const [k, v] of Object.entries(given)) {
    if (v !== undefined && v !== null && !positiveInt(v)) {
      ctx.fail(`${ctx.file}: ${k}: expected a positive integer, got ${JSON.stringify(v)}`);
      return;
    }
  }
  if (!positiveInt(g) || !positiveInt(ga)) return; // the schema reports these
  if (stepsPerGen !== undefined && stepsPerGen !== null && stepsPerGen !== ga) {
    ctx.fail(
      `${ctx.file}: steps_per_generation ${stepsPerGen} differs from gradient_accumulation_steps ${ga}; atmanrl generates once per optimisation step, so drop steps_per_generation or make it equal (a listed limitation, see "Coming from TRL")`,
    );
    return;
  }
  let completions: number;
  let by: string;
  if (perDevice !== undefined && perDevice !== null) {
    completions = (perDevice as number) * ga;
    by = 'per_device_train_batch_size';
    if (genBatch !== undefined && genBatch !== null && genBatch !== completions) {
      ctx.fail(
        `${ctx.file}: generation_batch_size ${genBatch} differs from per_device_train_batch_size ${perDevice} × gradient_accumulation_steps ${ga} = ${completions}; atmanrl generates once per optimisation step, so drop generation_batch_size or make it equal (a listed limitation, see "Coming from TRL")`,
      );
      return;
    }
  } else if (genBatch !== undefined && genBatch !== null) {
    completions = genBatch as number;
    by = 'generation_batch_size';
  } else return;
  if (completions % g !== 0) {
    ctx.fail(
      `${ctx.file}: ${by === 'per_device_train_batch_size' ? `per_device_train_batch_size ${perDevice} × gradient_accumulation_steps ${ga}` : `generation_batch_size ${genBatch}`} = ${completions} completions per step is not a multiple of num_generations ${g}. TRL counts completions, atmanrl counts prompts (promptsPerStep = per_device_train_batch_size × gradient_accumulation_steps / num_generations): make it a multiple of ${g} (e.g. ${Math.max(1, Math.round(completions / g)) * g}), or set promptsPerStep instead`,
    );
    return;
  }
  set('promptsPerStep', completions / g, by);
}

/** Markdown table of {@link TRL_KEYS} (the README's "Coming from TRL"). */
export function trlTable(): string {
  const rows = TRL_KEYS.map((k) => {
    const ours = k.ours.length === 0 ? 'ignored' : k.ours.map((o) => `\`${o}\``).join(', ');
    return `| \`${k.trl}\` | ${ours} | ${k.note} |`;
  });
  return ['| TRL key | atmanrl option | note |', '|---|---|---|', ...rows].join('\n');
}
