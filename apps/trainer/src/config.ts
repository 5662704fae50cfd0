// The one configuration schema of a run: a table of options (data), from which the zod schema,
// the kebab-case flags, `--dry-run` output and the README table are all derived.
// Resolution order: defaults < `--config file.(json|yaml)` < flags. Every problem is reported.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { translateTrlConfig } from './_internal/trl-config.js';
import { UsageError } from './errors.js';

/** The CLI's commands. */
export type CommandName = 'sft' | 'train' | 'saliency' | 'eval' | 'view' | 'demo' | 'experiment';

type OptionType =
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'integer'; min?: number }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] };

/** One configuration option: key, type, default, and where the default comes from. */
export interface OptionSpec {
  key: string;
  type: OptionType;
  default: number | string | boolean | null;
  doc: string;
  /** Where the default comes from (paper, TRL, method.md, project choice). */
  source: string;
  group: 'run' | 'model' | 'data' | 'grpo' | 'reward' | 'saliency' | 'sft' | 'eval';
  /**
   * The `@atmanrl/grpo` config key this option sets (null = omitted), when it maps to one; the
   * GRPO options of a run and the start-up list of defaults that differ from grpo's derive from it.
   */
  grpo?: string;
}

const int = (min = 0) => ({ kind: 'integer', min }) as const;
const num = (min?: number, max?: number) =>
  ({
    kind: 'number',
    ...(min === undefined ? {} : { min }),
    ...(max === undefined ? {} : { max }),
  }) as { kind: 'number'; min?: number; max?: number };
const str = { kind: 'string' } as const;
const bool = { kind: 'boolean' } as const;
const oneOf = <const V extends readonly [string, ...string[]]>(...values: V) =>
  ({ kind: 'enum', values }) as const;

/** Every option of every command. Flags are the kebab-case form of `key`. */
export const OPTIONS = [
  // run
  {
    key: 'seed',
    type: int(),
    default: 0,
    doc: 'seed of every random source',
    source: 'project',
    group: 'run',
  },
  {
    key: 'backend',
    type: oneOf('auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'),
    default: 'auto',
    doc: 'TensorFlow.js backend (ATMANRL_BACKEND overrides auto)',
    source: 'architecture.md',
    group: 'run',
  },
  {
    key: 'workers',
    type: int(0),
    default: null,
    doc: 'worker threads for rollouts and mask fits (null = available cores; 0 = in this thread); results do not depend on it',
    source: 'project',
    group: 'run',
  },
  {
    key: 'runsDir',
    type: str,
    default: 'runs',
    doc: 'folder holding run folders',
    source: 'project',
    group: 'run',
  },
  {
    key: 'runName',
    type: str,
    default: null,
    doc: 'human name in the run id',
    source: 'project',
    group: 'run',
  },
  {
    key: 'resume',
    type: str,
    default: null,
    doc: 'run folder to continue exactly from its latest checkpoint',
    source: 'project',
    group: 'run',
  },
  {
    key: 'maxSteps',
    type: int(1),
    default: 200,
    doc: 'optimisation steps',
    source: 'project',
    group: 'run',
    grpo: 'maxSteps',
  },
  {
    key: 'checkpointEvery',
    type: int(1),
    default: 10,
    doc: 'checkpoint every N steps (and on SIGINT/SIGTERM)',
    source: 'project',
    group: 'run',
  },
  {
    key: 'logSamplesEvery',
    type: int(1),
    default: 1,
    doc: 'log rollouts to samples.jsonl every N steps',
    source: 'project',
    group: 'run',
  },
  {
    key: 'probePrompts',
    type: int(0),
    default: 4,
    doc: 'fixed test problems answered greedily (with a mask fit) at every logged step, for step-to-step and run-to-run comparison; 0 = off',
    source: 'project',
    group: 'run',
  },
  {
    key: 'numTrainEpochs',
    type: num(0),
    default: null,
    doc: 'passes over the training prompts: sets maxSteps = ceil(epochs × floor(items / promptsPerStep)); an error together with an explicit maxSteps',
    source: 'project (TRL: 3, overridden by max_steps)',
    group: 'run',
  },
  {
    key: 'loggingSteps',
    type: int(1),
    default: 1,
    doc: 'print the progress line every N steps (metrics.jsonl still gets every step)',
    source: 'project (TRL: 10)',
    group: 'run',
  },
  {
    key: 'logCompletions',
    type: bool,
    default: false,
    doc: 'print completions (prompt, completion, reward) to stderr at logging steps',
    source: 'TRL',
    group: 'run',
  },
  {
    key: 'numCompletionsToPrint',
    type: int(1),
    default: null,
    doc: 'completions printed per logging step with --log-completions (null = all of the step)',
    source: 'TRL',
    group: 'run',
  },
  {
    key: 'saveTotalLimit',
    type: int(1),
    default: null,
    doc: 'keep only the newest N checkpoints (the latest is never deleted); null = keep all',
    source: 'TRL',
    group: 'run',
  },
  {
    key: 'evalSteps',
    type: int(1),
    default: null,
    doc: 'every N steps, greedy accuracy on the first --eval-limit test problems, logged as eval/accuracy and eval/strict_rate; null = off',
    source: 'TRL',
    group: 'run',
  },
  // model
  {
    key: 'model',
    type: str,
    default: 'embedded',
    doc: "'embedded' (the bundled default) or a local Hugging Face Llama folder",
    source: 'project',
    group: 'model',
  },
  {
    key: 'recompute',
    type: bool,
    default: false,
    doc: 'activation recomputation: each decoder layer keeps only its input for the backward pass and reruns its forward there (less memory for long sequences, about one more forward of compute, same gradients); for the update and the mask fits of `train`',
    source: 'project',
    group: 'model',
  },
  {
    key: 'out',
    type: str,
    default: null,
    doc: 'output folder for `sft` (Hugging Face layout)',
    source: 'project',
    group: 'model',
  },
  {
    key: 'force',
    type: bool,
    default: false,
    doc: '`sft`: replace an existing, non-empty --out folder',
    source: 'project',
    group: 'model',
  },
  {
    key: 'reportOnly',
    type: bool,
    default: false,
    doc: '`experiment`: write REPORT.md, results.json and the plots from the jobs finished so far, and run none (the interim report of a long experiment; it lists the jobs not finished)',
    source: 'project',
    group: 'run',
  },
  // data
  {
    key: 'dataset',
    type: oneOf('synthetic', 'gsm8k', 'mmlu'),
    default: 'synthetic',
    doc: 'task',
    source: 'project',
    group: 'data',
  },
  {
    key: 'dataDir',
    type: str,
    default: null,
    doc: 'folder with the dataset files (GSM8K jsonl / MMLU csv or parquet)',
    source: 'project',
    group: 'data',
  },
  {
    key: 'dataOnError',
    type: oneOf('throw', 'skip'),
    default: 'throw',
    doc: "malformed GSM8K/MMLU record: 'throw' (stop, naming file:line) or 'skip' (count and go on)",
    source: 'datasets',
    group: 'data',
  },
  {
    key: 'split',
    type: str,
    default: 'train',
    doc: 'dataset split',
    source: 'project',
    group: 'data',
  },
  {
    key: 'limit',
    type: int(1),
    default: null,
    doc: 'use at most N items',
    source: 'project',
    group: 'data',
  },
  {
    key: 'shuffleDataset',
    type: bool,
    default: true,
    doc: 'reshuffle the training prompts every epoch (seeded); false = in dataset order',
    source: 'TRL',
    group: 'data',
  },
  {
    key: 'maxPromptLength',
    type: int(1),
    default: null,
    doc: 'truncate longer prompts from the left to N tokens (counted as prompts/truncated); null = off',
    source: 'project (TRL: 512)',
    group: 'data',
  },
  {
    key: 'delimiter',
    type: str,
    default: '####',
    doc: 'answer delimiter the prompt asks for',
    source: 'method.md',
    group: 'data',
  },
  {
    key: 'fewShot',
    type: int(),
    default: 0,
    doc: 'k-shot examples in the prompt',
    source: 'project',
    group: 'data',
  },
  {
    key: 'syntheticSteps',
    type: int(1),
    default: 2,
    doc: 'synthetic task: arithmetic steps per problem',
    source: 'project',
    group: 'data',
  },
  {
    key: 'syntheticMaxNumber',
    type: int(1),
    default: 9,
    doc: 'synthetic task: largest operand',
    source: 'project',
    group: 'data',
  },
  {
    key: 'syntheticGuessableFraction',
    type: num(0, 1),
    default: 0,
    doc: 'synthetic task: share of problems whose answer is guessable without the CoT',
    source: 'project',
    group: 'data',
  },
  {
    key: 'syntheticTask',
    type: oneOf('arithmetic', 'modes'),
    default: 'arithmetic',
    doc: "synthetic task family: 'arithmetic' (step-by-step CoTs) or 'modes' (terse / verbose / bypass CoTs mixed by --mode-mix-*)",
    source: 'project',
    group: 'data',
  },
  {
    key: 'modeMixTerse',
    type: num(0, 1),
    default: 0.3,
    doc: 'modes task: share of reference CoTs with only the needed steps (sft)',
    source: 'project',
    group: 'data',
  },
  {
    key: 'modeMixVerbose',
    type: num(0, 1),
    default: 0.5,
    doc: 'modes task: share of reference CoTs with the steps plus removable text (sft)',
    source: 'project',
    group: 'data',
  },
  {
    key: 'modeMixBypass',
    type: num(0, 1),
    default: 0.2,
    doc: 'modes task: share of reference CoTs that compute nothing (guessable problems only; sft)',
    source: 'project',
    group: 'data',
  },
  // grpo (TRL GRPOConfig names)
  {
    key: 'numGenerations',
    type: int(1),
    default: 8,
    doc: 'G, completions per prompt',
    source: 'paper (= TRL)',
    group: 'grpo',
    grpo: 'numGenerations',
  },
  {
    key: 'promptsPerStep',
    type: int(1),
    default: 8,
    doc: 'prompts per optimisation step',
    source: 'paper',
    group: 'grpo',
  },
  {
    key: 'learningRate',
    type: num(0),
    default: 1e-6,
    doc: 'AdamW learning rate',
    source: 'paper',
    group: 'grpo',
    grpo: 'learningRate',
  },
  {
    key: 'weightDecay',
    type: num(0),
    default: 0,
    doc: 'AdamW decoupled weight decay',
    source: 'TRL',
    group: 'grpo',
    grpo: 'weightDecay',
  },
  {
    key: 'lrScheduler',
    type: oneOf('constant', 'constant_with_warmup', 'linear', 'cosine'),
    default: 'constant',
    doc: 'learning-rate schedule (Transformers semantics; linear and cosine decay to 0 at the last update)',
    source: 'project',
    group: 'grpo',
    grpo: 'lrSchedulerType',
  },
  {
    key: 'warmupSteps',
    type: int(),
    default: 0,
    doc: 'linear warm-up, in optimiser updates (μ per step)',
    source: 'TRL',
    group: 'grpo',
    grpo: 'warmupSteps',
  },
  {
    key: 'warmupRatio',
    type: num(0, 1),
    default: 0,
    doc: 'warm-up as a fraction of all optimiser updates (warmupSteps > 0 wins)',
    source: 'TRL',
    group: 'grpo',
    grpo: 'warmupRatio',
  },
  {
    key: 'maxGradNorm',
    type: num(0),
    default: 1,
    doc: 'global gradient-norm clip (0 = off)',
    source: 'TRL',
    group: 'grpo',
    grpo: 'maxGradNorm',
  },
  {
    key: 'gradientAccumulationSteps',
    type: int(1),
    default: 1,
    doc: 'micro-batches per update',
    source: 'TRL',
    group: 'grpo',
    grpo: 'gradientAccumulationSteps',
  },
  {
    key: 'maxTokensPerMicroBatch',
    type: int(1),
    default: null,
    doc: 'padded-token budget of one forward/backward pass: the update packs each micro-batch into passes of at most N tokens (same gradient; a longer completion gets its own pass) and the mask fits pack their batches likewise; null = off (one pass per micro-batch, fits by item count)',
    source: 'project',
    group: 'grpo',
    grpo: 'maxTokensPerMicroBatch',
  },
  {
    key: 'beta',
    type: num(0),
    default: 0,
    doc: 'KL weight to the frozen reference (k3)',
    source: 'TRL (paper: not reported)',
    group: 'grpo',
    grpo: 'beta',
  },
  {
    key: 'epsilon',
    type: num(0),
    default: 0.2,
    doc: 'PPO clip ε',
    source: 'paper (= TRL)',
    group: 'grpo',
    grpo: 'epsilon',
  },
  {
    key: 'epsilonHigh',
    type: num(0),
    default: null,
    doc: 'upper clip ε (DAPO); null = epsilon',
    source: 'TRL',
    group: 'grpo',
    grpo: 'epsilonHigh',
  },
  {
    key: 'lossType',
    type: oneOf('grpo', 'bnpo', 'dr_grpo', 'dapo'),
    default: 'grpo',
    doc: 'loss normalisation (method.md §4)',
    source: 'paper (GRPO)',
    group: 'grpo',
    grpo: 'lossType',
  },
  {
    key: 'scaleRewards',
    type: oneOf('group', 'batch', 'none'),
    default: 'group',
    doc: 'advantage scaling',
    source: 'TRL',
    group: 'grpo',
    grpo: 'scaleRewards',
  },
  {
    key: 'numIterations',
    type: int(1),
    default: 2,
    doc: 'μ, passes per rollout batch',
    source: 'paper',
    group: 'grpo',
    grpo: 'numIterations',
  },
  {
    key: 'temperature',
    type: num(0),
    default: 1,
    doc: 'sampling temperature',
    source: 'TRL',
    group: 'grpo',
    grpo: 'temperature',
  },
  {
    key: 'topP',
    type: num(0, 1),
    default: 1,
    doc: 'nucleus sampling',
    source: 'TRL',
    group: 'grpo',
    grpo: 'topP',
  },
  {
    key: 'topK',
    type: int(),
    default: 0,
    doc: 'top-k sampling (0 = off)',
    source: 'TRL',
    group: 'grpo',
    grpo: 'topK',
  },
  {
    key: 'maxCompletionLength',
    type: int(1),
    default: 1024,
    doc: 'max new tokens per completion',
    source: 'paper',
    group: 'grpo',
    grpo: 'maxCompletionLength',
  },
  {
    key: 'maskTruncatedCompletions',
    type: bool,
    default: false,
    doc: 'exclude truncated completions from the loss',
    source: 'TRL',
    group: 'grpo',
    grpo: 'maskTruncatedCompletions',
  },
  {
    key: 'importanceSamplingLevel',
    type: oneOf('token', 'sequence'),
    default: 'token',
    doc: "importance ratio per token, or one per sequence ('sequence' = GSPO)",
    source: 'TRL',
    group: 'grpo',
    grpo: 'importanceSamplingLevel',
  },
  {
    key: 'delta',
    type: num(0),
    default: null,
    doc: 'two-sided clipping: upper bound on the ratio of negative-advantage tokens (null = off)',
    source: 'TRL',
    group: 'grpo',
    grpo: 'delta',
  },
  {
    key: 'topEntropyQuantile',
    type: num(0, 1),
    default: 1,
    doc: 'train only on the tokens in the top ρ quantile of entropy (1 = all tokens)',
    source: 'TRL',
    group: 'grpo',
    grpo: 'topEntropyQuantile',
  },
  // rewards
  {
    key: 'outcomeWeight',
    type: num(),
    default: 1,
    doc: 'weight of the outcome reward (0 correct / -1 wrong)',
    source: 'paper',
    group: 'reward',
  },
  {
    key: 'saliencyReward',
    type: bool,
    default: true,
    doc: 'add the AtManRL saliency reward',
    source: 'paper',
    group: 'reward',
  },
  {
    key: 'saliencyWeight',
    type: num(),
    default: 1,
    doc: 'λ, weight of the saliency reward',
    source: 'paper',
    group: 'reward',
  },
  {
    key: 'saliencyDirection',
    type: oneOf('reliance', 'paper-literal'),
    default: 'reliance',
    doc: "'reliance' = 1 - H/c, 'paper-literal' = H/c (method.md §3)",
    source: 'method.md [choice]',
    group: 'reward',
  },
  {
    key: 'saliencyGate',
    type: oneOf('none', 'correct-only'),
    default: 'none',
    doc: 'count saliency only for correct completions',
    source: 'method.md [choice]',
    group: 'reward',
  },
  // saliency fit (method.md §2)
  {
    key: 'saliencySteps',
    type: int(1),
    default: 200,
    doc: 'AdamW steps of the mask fit',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyLr',
    type: num(0),
    default: 1e-3,
    doc: 'mask-fit learning rate',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyBeta1',
    type: num(0, 1),
    default: 0.6,
    doc: 'mask-fit AdamW β1',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyBeta2',
    type: num(0, 1),
    default: 0.9999,
    doc: 'mask-fit AdamW β2',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyWeightDecay',
    type: num(0),
    default: 0.05,
    doc: 'mask-fit weight decay',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyInit',
    type: num(),
    default: -0.4,
    doc: 'c, initial θ',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyScale',
    type: num(0),
    default: 10,
    doc: 'bias = scale · min(θ, 0)',
    source: 'paper',
    group: 'saliency',
  },
  {
    key: 'saliencyQueries',
    type: oneOf('all', 'answer'),
    default: 'all',
    doc: 'query rows that get the bias',
    source: 'method.md [choice]',
    group: 'saliency',
  },
  {
    key: 'traces',
    type: str,
    default: null,
    doc: '`saliency`: JSONL of {prompt, completion, gold} traces to explain',
    source: 'project',
    group: 'saliency',
  },
  // sft
  {
    key: 'sftExamples',
    type: int(1),
    default: 4000,
    doc: '`sft`: training examples',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'sftEpochs',
    type: int(1),
    default: 1,
    doc: '`sft`: epochs',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'sftBatchSize',
    type: int(1),
    default: 16,
    doc: '`sft`: batch size',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'sftLearningRate',
    type: num(0),
    default: 3e-3,
    doc: '`sft`: AdamW learning rate',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'hiddenSize',
    type: int(8),
    default: 64,
    doc: '`sft` from scratch: model width D',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'numLayers',
    type: int(1),
    default: 2,
    doc: '`sft` from scratch: layers L',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'numHeads',
    type: int(1),
    default: 4,
    doc: '`sft` from scratch: heads H',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'numKvHeads',
    type: int(1),
    default: 2,
    doc: '`sft` from scratch: key/value heads',
    source: 'project',
    group: 'sft',
  },
  {
    key: 'intermediateSize',
    type: int(8),
    default: 192,
    doc: '`sft` from scratch: MLP width',
    source: 'project',
    group: 'sft',
  },
  // eval
  {
    key: 'evalLimit',
    type: int(1),
    default: 100,
    doc: '`eval`: items',
    source: 'project',
    group: 'eval',
  },
  {
    key: 'evalSamples',
    type: int(1),
    default: 4,
    doc: '`eval`: samples per item for pass@k (k ≤ n)',
    source: 'paper (pass@4)',
    group: 'eval',
  },
  {
    key: 'evalFaithfulness',
    type: bool,
    default: true,
    doc: '`eval`: run the faithfulness tests too',
    source: 'project',
    group: 'eval',
  },
  // view
  {
    key: 'port',
    type: int(),
    default: 4173,
    doc: '`view`: port (127.0.0.1 only)',
    source: 'project',
    group: 'run',
  },
  {
    key: 'export',
    type: str,
    default: null,
    doc: '`view`: write a static bundle of one run here',
    source: 'project',
    group: 'run',
  },
] as const satisfies readonly OptionSpec[];

function zodFor(spec: OptionSpec): z.ZodType {
  const t = spec.type;
  let base: z.ZodType;
  switch (t.kind) {
    case 'number': {
      let n = z.number();
      if (t.min !== undefined) n = n.min(t.min);
      if (t.max !== undefined) n = n.max(t.max);
      base = n;
      break;
    }
    case 'integer':
      base = z
        .number()
        .int()
        .min(t.min ?? 0);
      break;
    case 'string':
      base = z.string();
      break;
    case 'boolean':
      base = z.boolean();
      break;
    case 'enum':
      base = z.enum(t.values as [string, ...string[]]);
      break;
  }
  return spec.default === null ? base.nullable() : base;
}

/** The zod schema of a full configuration; unknown keys are errors. */
export const ConfigSchema = z.strictObject(
  Object.fromEntries(OPTIONS.map((o) => [o.key, zodFor(o)])) as Record<string, z.ZodType>,
);

/** The value type of one option type. */
type ValueOf<T> = T extends { kind: 'number' | 'integer' }
  ? number
  : T extends { kind: 'string' }
    ? string
    : T extends { kind: 'boolean' }
      ? boolean
      : T extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : never;

/**
 * A fully resolved configuration (every key present), inferred from {@link OPTIONS}: a key's
 * type is its option type, `| null` when its default is null. The table is the single source.
 */
export type RunConfig = {
  -readonly [S in (typeof OPTIONS)[number] as S['key']]: S['default'] extends null
    ? ValueOf<S['type']> | null
    : ValueOf<S['type']>;
};

/** Default configuration (the paper's values where it gives them). */
export function defaultConfig(): RunConfig {
  return Object.fromEntries(OPTIONS.map((o) => [o.key, o.default])) as RunConfig;
}

/** `maxSteps` -> `max-steps`. */
export function toFlag(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `max-steps` -> `maxSteps`. */
export function fromFlag(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const BY_KEY = new Map<string, OptionSpec>(OPTIONS.map((o) => [o.key, o]));

/** Parsed command line: options given as flags, plus CLI-only switches. */
export interface ParsedArgs {
  flags: Record<string, unknown>;
  positionals: string[];
  configFile: string | null;
  dryRun: boolean;
  help: boolean;
}

function coerceFlag(
  spec: OptionSpec,
  raw: string | true,
  flag: string,
  problems: string[],
): unknown {
  const t = spec.type;
  if (t.kind === 'boolean') {
    if (raw === true || raw === 'true') return true;
    if (raw === 'false') return false;
    problems.push(`--${flag}: expected true or false, got "${raw}"`);
    return undefined;
  }
  if (raw === true) {
    problems.push(`--${flag}: needs a value (--${flag} <value> or --${flag}=<value>)`);
    return undefined;
  }
  if (raw === 'null' && spec.default === null) return null;
  if (t.kind === 'number' || t.kind === 'integer') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      problems.push(`--${flag}: expected a number, got "${raw}"`);
      return undefined;
    }
    return n;
  }
  return raw;
}

/** Closest option keys to `key` (for "did you mean" hints). */
function suggest(key: string): string | null {
  return closest(
    key,
    OPTIONS.map((o) => o.key),
  );
}

/** The candidate nearest to `word` by edit distance, when near enough to be a typo; else null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, word.length / 4) ? best : null;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] ?? 0;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] ?? 0;
      dp[j] = Math.min(
        (dp[j] ?? 0) + 1,
        (dp[j - 1] ?? 0) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length] ?? 0;
}

/** Parses argv (after the command name). Unknown flags and bad values are collected, not thrown. */
export function parseArgv(argv: readonly string[], problems: string[]): ParsedArgs {
  const out: ParsedArgs = {
    flags: {},
    positionals: [],
    configFile: null,
    dryRun: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') continue; // `pnpm start -- --max-steps 2` forwards a literal `--`
    if (!arg.startsWith('--')) {
      if (arg === '-h') out.help = true;
      else out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | true = eq >= 0 ? arg.slice(eq + 1) : true;
    if (flag === 'help') {
      out.help = true;
      continue;
    }
    if (flag === 'dry-run') {
      out.dryRun = true;
      continue;
    }
    const key = fromFlag(flag);
    const spec = flag === 'config' ? null : BY_KEY.get(key);
    const takesValue = flag === 'config' || (spec !== undefined && spec?.type.kind !== 'boolean');
    const next = argv[i + 1];
    if (value === true && takesValue && next !== undefined && !next.startsWith('--')) {
      value = next;
      i++;
    } else if (
      value === true &&
      spec?.type.kind === 'boolean' &&
      (next === 'true' || next === 'false')
    ) {
      value = next;
      i++;
    }
    if (flag === 'config') {
      if (value === true) problems.push('--config: needs a file path');
      else out.configFile = value;
      continue;
    }
    if (spec === undefined || spec === null || flag !== toFlag(key)) {
      const hint = suggest(key);
      problems.push(
        `--${flag}: unknown option${hint ? ` (did you mean --${toFlag(hint)}?)` : ''}; see \`atmanrl <command> --help\``,
      );
      continue;
    }
    const v = coerceFlag(spec, value, flag, problems);
    if (v !== undefined) out.flags[key] = v;
  }
  return out;
}

/**
 * Reads a `--config` file, parsed by its extension (`.json`; `.yaml`/`.yml`; anything else is an
 * error). Keys may be camelCase, kebab-case, or TRL `GRPOConfig` snake_case names (translated by
 * `_internal/trl-config.ts`; TRL keys atmanrl ignores are added to `warnings`).
 */
export function readConfigFile(
  path: string,
  problems: string[],
  warnings: string[] = [],
): Record<string, unknown> {
  const ext = extname(path).toLowerCase();
  const format = ext === '.json' ? 'JSON' : ext === '.yaml' || ext === '.yml' ? 'YAML' : null;
  if (format === null) {
    problems.push(
      `--config ${path}: unknown file type "${ext || '(none)'}"; use a .json, .yaml or .yml file`,
    );
    return {};
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    problems.push(`--config: cannot read ${path}: the file does not exist or is not readable`);
    return {};
  }
  let value: unknown;
  try {
    value = format === 'JSON' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    problems.push(`${path}: not valid ${format}: ${(e as Error).message.split('\n')[0]}`);
    return {};
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path}: expected a mapping of option: value`);
    return {};
  }
  const t = translateTrlConfig(value as Record<string, unknown>, path);
  problems.push(...t.problems);
  warnings.push(...t.warnings);
  return t.config;
}

/**
 * Resolves defaults < config file < flags, validates everything with the schema and throws one
 * `UsageError` listing every problem as `path: message`.
 */
export function resolveConfig(
  parsed: ParsedArgs,
  overrides: Partial<RunConfig> = {},
  earlier: string[] = [],
): RunConfig {
  return resolveConfigWithKeys(parsed, overrides, earlier).config;
}

/**
 * {@link resolveConfig}, also returning the keys the user set explicitly (config file or flags),
 * e.g. to let `--resume` override them, and the config file's warnings (TRL keys it ignores).
 */
export function resolveConfigWithKeys(
  parsed: ParsedArgs,
  overrides: Partial<RunConfig> = {},
  earlier: string[] = [],
): { config: RunConfig; explicit: Set<string>; warnings: string[] } {
  const problems = [...earlier];
  const warnings: string[] = [];
  const fromFile = parsed.configFile ? readConfigFile(parsed.configFile, problems, warnings) : {};
  const merged = { ...defaultConfig(), ...overrides, ...fromFile, ...parsed.flags };
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) {
          const hint = suggest(k);
          problems.push(
            `${parsed.configFile ?? 'config'}: ${k}: unknown option${hint ? ` (did you mean ${hint}?)` : ''}`,
          );
        }
      } else {
        const key = String(issue.path[0] ?? '');
        const spec = BY_KEY.get(key);
        const fromFlags = key in parsed.flags;
        const inFile = parsed.configFile !== null && key in fromFile;
        const name = !spec
          ? issue.path.join('.')
          : fromFlags
            ? `--${toFlag(key)}`
            : inFile
              ? `${parsed.configFile}: ${key}`
              : key;
        const given = JSON.stringify((merged as Record<string, unknown>)[key]);
        problems.push(
          spec?.type.kind === 'enum'
            ? `${name}: ${given} is not one of ${spec.type.values.join(', ')}${closest(String((merged as Record<string, unknown>)[key]), spec.type.values) ? ` (did you mean ${closest(String((merged as Record<string, unknown>)[key]), spec.type.values)}?)` : ''}`
            : `${name || '(config)'}: ${issue.message}${spec ? ` (got ${given})` : ''}`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new UsageError(
      'BAD_CONFIG',
      `invalid configuration (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`,
    );
  }
  const explicit = new Set([...Object.keys(fromFile), ...Object.keys(parsed.flags)]);
  return { config: result.data as RunConfig, explicit, warnings };
}

/** Commands that run GRPO and so need a valid GRPO combination of options. */
const GRPO_COMMANDS: readonly CommandName[] = ['train', 'demo', 'experiment'];

/**
 * Problems of option combinations that each option alone cannot show, as `--flag: message` lines
 * with the fix; checked before anything is written (also by `--dry-run`).
 */
export function combinationProblems(
  config: RunConfig,
  command: CommandName,
  explicit: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  if (config.dataset === 'synthetic' && config.syntheticTask === 'modes') {
    const sum = config.modeMixTerse + config.modeMixVerbose + config.modeMixBypass;
    if (Math.abs(sum - 1) > 1e-6)
      out.push(
        `--mode-mix-terse/--mode-mix-verbose/--mode-mix-bypass: the shares sum to ${sum}; make them sum to 1`,
      );
    if (config.modeMixBypass > config.syntheticGuessableFraction + 1e-9)
      out.push(
        `--mode-mix-bypass ${config.modeMixBypass} exceeds --synthetic-guessable-fraction ${config.syntheticGuessableFraction}; bypass CoTs are written for guessable problems only, so raise the fraction or lower the share`,
      );
  }
  if (!GRPO_COMMANDS.includes(command)) return out;
  if (config.numGenerations < 2)
    out.push(
      `--num-generations ${config.numGenerations}: GRPO needs at least 2 completions per prompt (a group of one has advantage 0); use 2 or more`,
    );
  const n = config.promptsPerStep * config.numGenerations;
  if (n % config.gradientAccumulationSteps !== 0)
    out.push(
      `--gradient-accumulation-steps ${config.gradientAccumulationSteps}: the ${config.promptsPerStep} × ${config.numGenerations} = ${n} completions of a step do not split into that many equal micro-batches; use a divisor of ${n}`,
    );
  if (!(config.temperature > 0))
    out.push(
      `--temperature ${config.temperature}: GRPO samples its completions, so the temperature must be > 0 (the paper and TRL use 1)`,
    );
  if (config.numTrainEpochs !== null && explicit.has('maxSteps') && config.resume === null)
    out.push(
      `--num-train-epochs ${config.numTrainEpochs} and --max-steps ${config.maxSteps} both set the run length; give one of them`,
    );
  if (config.numTrainEpochs !== null && !(config.numTrainEpochs > 0))
    out.push(`--num-train-epochs ${config.numTrainEpochs}: must be > 0 (or null for --max-steps)`);
  if (!(config.topEntropyQuantile > 0))
    out.push(
      `--top-entropy-quantile ${config.topEntropyQuantile}: must be in (0, 1] (1 = train on every token)`,
    );
  if (config.maxTokensPerMicroBatch !== null && config.topEntropyQuantile < 1)
    out.push(
      `--max-tokens-per-micro-batch ${config.maxTokensPerMicroBatch} with --top-entropy-quantile ${config.topEntropyQuantile}: the entropy quantile is taken over a whole micro-batch, which the token budget splits; drop --max-tokens-per-micro-batch (use --gradient-accumulation-steps) or set --top-entropy-quantile 1`,
    );
  if (config.epsilonHigh !== null && config.epsilonHigh < config.epsilon)
    out.push(
      `--epsilon-high ${config.epsilonHigh} is below --epsilon ${config.epsilon}; the upper clip must be at least the lower one (or null for the same value)`,
    );
  return out;
}

/** Which commands read each group of options (for `<command> --help`). */
const GROUP_COMMANDS: Record<OptionSpec['group'], readonly CommandName[]> = {
  run: ['sft', 'train', 'saliency', 'eval', 'demo'],
  model: ['sft', 'train', 'saliency', 'eval', 'demo'],
  data: ['sft', 'train', 'saliency', 'eval', 'demo'],
  grpo: ['train', 'demo'],
  reward: ['train', 'demo'],
  saliency: ['train', 'saliency', 'eval', 'demo'],
  sft: ['sft'],
  eval: ['eval', 'demo'],
};
/** Options read by commands outside their group's list, or by fewer. */
const KEY_COMMANDS: Partial<Record<string, readonly CommandName[]>> = {
  port: ['view'],
  export: ['view'],
  resume: ['train', 'demo'],
  checkpointEvery: ['train', 'demo'],
  logSamplesEvery: ['train', 'demo'],
  probePrompts: ['train', 'demo'],
  workers: ['train', 'demo'],
  out: ['sft'],
  force: ['sft'],
  reportOnly: ['experiment'],
  traces: ['saliency'],
  maxSteps: ['train', 'demo'],
  numTrainEpochs: ['train', 'demo'],
  loggingSteps: ['train', 'demo'],
  logCompletions: ['train', 'demo'],
  numCompletionsToPrint: ['train', 'demo'],
  saveTotalLimit: ['train', 'demo'],
  evalSteps: ['train', 'demo'],
  shuffleDataset: ['train', 'demo'],
  maxPromptLength: ['train', 'demo'],
  maxCompletionLength: ['train', 'demo', 'saliency', 'eval'],
  temperature: ['train', 'demo', 'eval'],
  evalLimit: ['eval', 'demo', 'sft'],
  maxTokensPerMicroBatch: ['train', 'demo', 'saliency', 'eval'],
  recompute: ['train', 'demo'],
  backend: ['sft', 'train', 'saliency', 'eval', 'demo', 'experiment'],
};

/** The options `command` reads (`experiment` reads its file; its arms carry train/eval keys). */
export function optionsFor(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => (KEY_COMMANDS[o.key] ?? GROUP_COMMANDS[o.group]).includes(command));
}

/**
 * Markdown table of the options (for the README: all of them; for `<command> --help`: the
 * command's own).
 */
export function optionsTable(command?: CommandName): string {
  const rows = (command === undefined ? [...OPTIONS] : optionsFor(command)).map((o) => {
    const t = o.type.kind === 'enum' ? o.type.values.join(' \\| ') : o.type.kind;
    return `| \`--${toFlag(o.key)}\` | ${t} | \`${JSON.stringify(o.default)}\` | ${o.source} | ${o.doc} |`;
  });
  return [
    '| flag | type | default | default from | meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** One option whose value in effect differs from the `@atmanrl/grpo` library's default. */
export interface DefaultDifference {
  key: string;
  /** The `@atmanrl/grpo` key. */
  grpo: string;
  value: unknown;
  grpoDefault: unknown;
  /** Where our value comes from: the option's `source`, or the command's defaults. */
  source: string;
}

/**
 * The options mapped to grpo config keys ({@link OptionSpec.grpo}) whose value differs from
 * `grpoDefaults` (grpo's `GRPO_DEFAULTS`) although the user did not set them: the CLI's (or the
 * command's) defaults that a library user would not get. Derived from the option table; grpo keys
 * without a library default (undefined) are skipped.
 */
export function defaultDifferences(
  config: RunConfig,
  explicit: ReadonlySet<string>,
  grpoDefaults: Readonly<Record<string, unknown>>,
  commandDefaults: Partial<RunConfig> = {},
): DefaultDifference[] {
  const out: DefaultDifference[] = [];
  for (const o of OPTIONS as readonly OptionSpec[]) {
    if (o.grpo === undefined || explicit.has(o.key) || !(o.grpo in grpoDefaults)) continue;
    const lib = grpoDefaults[o.grpo];
    if (lib === undefined) continue;
    const value = (config as Record<string, unknown>)[o.key];
    if (JSON.stringify(value ?? null) === JSON.stringify(lib ?? null)) continue;
    out.push({
      key: o.key,
      grpo: o.grpo,
      value,
      grpoDefault: lib,
      source: o.key in commandDefaults ? 'command default' : o.source,
    });
  }
  return out;
}

/** The start-up lines of {@link defaultDifferences} (empty when there is none). */
export function formatDefaultDifferences(diffs: readonly DefaultDifference[]): string[] {
  if (diffs.length === 0) return [];
  return [
    'atmanrl: defaults that differ from @atmanrl/grpo (set them to silence this):',
    ...diffs.map(
      (d) =>
        `  --${toFlag(d.key)} ${JSON.stringify(d.value)} (grpo: ${JSON.stringify(d.grpoDefault)}; from ${d.source})`,
    ),
  ];
}

/**
 * The `@atmanrl/grpo` options of a run, from the options' {@link OptionSpec.grpo} keys; null
 * values are omitted (grpo's default). An option that `grpoDefaults` (the installed grpo's
 * `GRPO_DEFAULTS`) does not know passes only at its default (omitted); any other value is a
 * `BAD_CONFIG` user error naming the flag.
 */
export function grpoInput(
  config: RunConfig,
  grpoDefaults: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS as readonly OptionSpec[]) {
    if (o.grpo === undefined) continue;
    const v = (config as Record<string, unknown>)[o.key];
    if (v === null || v === undefined) continue;
    if (!(o.grpo in grpoDefaults)) {
      if (JSON.stringify(v) === JSON.stringify(o.default)) continue;
      throw new UsageError(
        'BAD_CONFIG',
        `--${toFlag(o.key)} ${JSON.stringify(v)}: the installed @atmanrl/grpo has no '${o.grpo}' option; upgrade @atmanrl/grpo, or leave --${toFlag(o.key)} at ${JSON.stringify(o.default)}`,
      );
    }
    out[o.grpo] = v;
  }
  return out;
}

/** The flag of the option that sets grpo key `grpoKey` (for grpo's messages), or null. */
export function flagOfGrpoKey(grpoKey: string): string | null {
  const o = (OPTIONS as readonly OptionSpec[]).find((x) => x.grpo === grpoKey);
  return o === undefined ? null : `--${toFlag(o.key)}`;
}
