// The option table: every option of every command (key, type, default, where the default comes
// from, which group and grpo key). The single source from which config.ts derives the zod schema,
// the flags, `--dry-run` output and the README table, and trl-config.ts its TRL key mapping.

/** The CLI's commands. */
export type CommandName =
  | 'sft'
  | 'train'
  | 'saliency'
  | 'eval'
  | 'view'
  | 'demo'
  | 'experiment'
  | 'worker';

/** The type of one option's value. */
export type OptionType =
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'integer'; min?: number }
  | { kind: 'string'; pattern?: RegExp; expected?: string }
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
/** A string matching `pattern`; `expected` says what it must be (in the error). */
const strMatching = (pattern: RegExp, expected: string) =>
  ({ kind: 'string', pattern, expected }) as const;
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
    doc: 'worker threads for rollouts and mask fits (null = available cores; 0 = in this thread; capped at --prompts-per-step, the jobs of a step); results do not depend on it, so it may change on --resume',
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
    key: 'queue',
    type: strMatching(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL'),
    default: null,
    doc: 'a Redis job queue (`redis://` or `rediss://` URL) that the run sends its rollout and mask-fit jobs through (null = none: the local worker pool)',
    source: 'project',
    group: 'run',
  },
  {
    key: 'queueTimeout',
    type: int(1),
    default: 600,
    doc: 'seconds the run waits with no `atmanrl worker` connected to `--queue` (or Redis unreachable) before it stops with exit 1 (resumable)',
    source: 'project',
    group: 'run',
  },
  {
    key: 'queueWeightsDir',
    type: str,
    default: null,
    doc: 'a directory every machine mounts at the same path (e.g. NFS) that holds the weights versions of `--queue` (null = in Redis itself)',
    source: 'project',
    group: 'run',
  },
  {
    key: 'concurrency',
    type: int(1),
    default: 1,
    doc: 'jobs an `atmanrl worker` runs at once, one thread each',
    source: 'project',
    group: 'run',
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
    doc: "'embedded', a local Hugging Face Llama folder, or a Hub id org/name[@revision] (Hugging Face cache, else downloaded)",
    source: 'project',
    group: 'model',
  },
  {
    key: 'revision',
    type: str,
    default: null,
    doc: "the model's revision: a branch, tag or commit of its Hugging Face repository, as transformers' `revision` (null = the default branch)",
    source: 'transformers',
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
    type: oneOf('arithmetic', 'modes', 'hint-modes'),
    default: 'arithmetic',
    doc: "synthetic task family: 'arithmetic' (step-by-step CoTs), 'modes' (terse / verbose / bypass CoTs mixed by --mode-mix-*) or 'hint-modes' (compute / decorative CoTs of equal length, a hint in the prompt)",
    source: 'project',
    group: 'data',
  },
  {
    key: 'syntheticSplit',
    type: oneOf('content', 'seed'),
    default: 'content',
    doc: "modes and hint-modes tasks: how train/val/test differ: 'content' (no question text in two splits) or 'seed' (one stream per split; questions recur across splits, as before issue 29)",
    source: 'project',
    group: 'data',
  },
  {
    key: 'syntheticHintAccuracy',
    type: num(0, 1),
    default: 1,
    doc: "hint-modes task: probability that the prompt's hint states the right answer",
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
    key: 'generationBatchSize',
    type: int(1),
    default: null,
    doc: "completions generated in one pass of a prompt's generate job (null = all of its G completions at once); bounds generation memory; results do not depend on it, so it may change on --resume (not TRL's generation_batch_size, which counts a step's completions)",
    source: 'project',
    group: 'grpo',
  },
  {
    key: 'overlapRewards',
    type: bool,
    default: false,
    doc: "score the rewards per micro-batch of groups (all started at once) and run each micro-batch's first update pass as soon as its rewards are in, alongside the worker threads' or --queue workers' mask fits; the same rewards and update as false but for the float rounding of mask-fit batches cut per micro-batch; the saliency reward's ms per rollout then includes waiting for earlier micro-batches' fits. With --workers 2 on 2 cores it took the modes recipe's AtManRL step from 1.38x to 1.29x outcome-only, 1.24x with --saliency-diagnostics false (apps/trainer README); in-process (--workers 1) it is slower, so off by default",
    source: 'project',
    group: 'grpo',
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
    key: 'lengthPenaltyWeight',
    type: num(0),
    default: 0,
    doc: 'w, weight of the length-penalty control reward (0 = off): -w·n/L for a CoT of n tokens, or -w·max(0, n-T)/T with a target T',
    source: 'method.md §4 (controls)',
    group: 'reward',
  },
  {
    key: 'lengthPenaltyTarget',
    type: int(1),
    default: null,
    doc: 'T, CoT tokens free of the length penalty (null = none: every CoT token costs w/L)',
    source: 'method.md §4 (controls)',
    group: 'reward',
  },
  {
    key: 'lengthPenaltyMaxLength',
    type: int(1),
    default: null,
    doc: "L, the length penalty's normaliser in tokens (null = --max-completion-length)",
    source: 'method.md §4 (controls)',
    group: 'reward',
  },
  {
    key: 'truncationReward',
    type: bool,
    default: false,
    doc: "add the truncation control reward: mean drop of the gold answer's probability when the CoT is cut to each of --truncation-fractions",
    source: 'method.md §4 (controls)',
    group: 'reward',
  },
  {
    key: 'truncationWeight',
    type: num(),
    default: 1,
    doc: 'weight of the truncation reward',
    source: 'project',
    group: 'reward',
  },
  {
    key: 'truncationFractions',
    type: strMatching(
      /^\s*(?:0|0?\.\d+)(?:\s*,\s*(?:0|0?\.\d+))*\s*$/,
      'comma-separated kept shares of the CoT, each in [0, 1), e.g. 0,0.2,0.4,0.6,0.8',
    ),
    default: '0,0.2,0.4,0.6,0.8',
    doc: 'kept shares of the CoT at which the truncation reward cuts it (comma-separated, each in [0, 1))',
    source: 'method.md §4 (controls)',
    group: 'reward',
  },
  {
    key: 'truncationGate',
    type: oneOf('none', 'correct-only'),
    default: 'none',
    doc: 'count the truncation reward only for correct completions',
    source: 'project',
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
    key: 'saliencyDiagnostics',
    type: bool,
    default: true,
    doc: "compute each fit's diagnostic CEs without a mask and under the fitted mask (the sample log's ceNoBias and ceFinal); false skips those two forward passes per fit (about a tenth of a 7-step fit) and leaves them out of the log; the rewards do not depend on it",
    source: 'project',
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

/** `maxSteps` -> `max-steps`. */
export function toFlag(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `max-steps` -> `maxSteps`. */
export function fromFlag(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
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
