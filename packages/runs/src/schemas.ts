// Schemas and types of every file in a run directory (architecture.md "Run directory").
// Each record carries `version`; readers accept versions <= SCHEMA_VERSION and reject newer ones.
import { z } from 'zod';

/** The schema version this package writes and the newest it can read. */
export const SCHEMA_VERSION = 1;

const version = z.number().int().positive();

/** Lifecycle of a run. */
export const RunStatusSchema = z.enum(['running', 'finished', 'failed', 'interrupted']);
/** Lifecycle of a run: `running` until it ends as `finished`, `failed` or `interrupted`. */
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** A machine, as `os.cpus()` describes it: its CPU model and how many cores it has. */
export const MachineSchema = z.looseObject({
  cpu: z.string(),
  cores: z.number().int().positive(),
});
/** A machine that ran (part of) a run. */
export type Machine = z.infer<typeof MachineSchema>;

/** `run.json`: the resolved configuration and identity of one run. */
export const RunInfoSchema = z.looseObject({
  version,
  id: z.string().min(1),
  name: z.string().optional(),
  command: z.string().min(1),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: RunStatusSchema,
  /** Resolved configuration, exactly as the trainer used it. */
  config: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  backend: z.looseObject({ name: z.string(), detail: z.string().optional() }),
  /** Package and runtime versions, e.g. `{ node: '20.20.2', '@atmanrl/grpo': '0.1.0' }`. */
  versions: z.record(z.string(), z.string()),
  /**
   * The machine the run was created on (`{ cpu: 'AMD EPYC 7B13', cores: 2 }`): wall times only
   * compare between runs on the same one. Absent in runs written before it was recorded.
   */
  machine: MachineSchema.optional(),
  /**
   * The Hugging Face Hub model the run started from, when `--model` was a Hub id
   * (`meta-llama/Llama-3.2-1B-Instruct`): the id, the commit hash it resolved to, and the sha256
   * of each file read (`{ 'model.safetensors': '<64 hex>' }`). Absent for a local folder.
   */
  modelSource: z
    .looseObject({
      id: z.string().min(1),
      revision: z.string().regex(/^[0-9a-f]{40}$/),
      files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
    })
    .optional(),
  /** Last completed step (0 before the first). */
  step: z.number().int().nonnegative().default(0),
  totalSteps: z.number().int().nonnegative().optional(),
  /** Set when status is `failed`: what happened and how to fix it. */
  error: z.string().optional(),
  /**
   * One entry per `--resume`: when, from which checkpoint, and the options it changed
   * (`{ maxSteps: { from: 4, to: 8 } }`); `config` holds the values in force now.
   */
  resumes: z
    .array(
      z.looseObject({
        at: z.string(),
        fromStep: z.number().int().nonnegative(),
        checkpoint: z.string().optional(),
        changes: z.record(z.string(), z.looseObject({ from: z.unknown(), to: z.unknown() })),
        /** The machine the resumed part ran on. */
        machine: MachineSchema.optional(),
      }),
    )
    .optional(),
});
/** Parsed `run.json`. */
export type RunInfo = z.infer<typeof RunInfoSchema>;

/** One line of `metrics.jsonl`: all scalar metrics of one optimisation step. */
export const MetricsRecordSchema = z.looseObject({
  version,
  step: z.number().int().nonnegative(),
  time: z.string(),
  /** Flat metric map; names follow TRL (`reward`, `rewards/outcome/mean`, `kl`, `clip_ratio/region_mean`...). `null` = not finite. */
  metrics: z.record(z.string(), z.number().nullable()),
});
/** Parsed line of `metrics.jsonl`. */
export type MetricsRecord = z.infer<typeof MetricsRecordSchema>;

/** Which part of the completion a token belongs to. */
export const TokenSpanSchema = z.enum(['prompt', 'cot', 'delimiter', 'answer', 'other']);
/** Which part of the completion a token belongs to. */
export type TokenSpan = z.infer<typeof TokenSpanSchema>;

/** A completion token with its saliency for display. */
export const SampleTokenSchema = z.looseObject({
  text: z.string(),
  /** `(min(θ,0) - c)/|c|`: 0 untouched, 1 fully re-enabled, negative = pushed down; null = no mask. */
  relevance: z.number().nullable(),
  span: TokenSpanSchema,
  /** Fitted mask parameter θ of a CoT token, when a mask was fitted. */
  theta: z.number().optional(),
});
/** A completion token with its saliency for display. */
export type SampleToken = z.infer<typeof SampleTokenSchema>;

const charRange = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

/** One line of `samples.jsonl`: one logged rollout of one group. */
export const SampleRecordSchema = z.looseObject({
  version,
  step: z.number().int().nonnegative(),
  /** Index of the prompt within the step's batch. */
  promptIndex: z.number().int().nonnegative(),
  /** Index of the completion within its group of G. */
  completionIndex: z.number().int().nonnegative(),
  sampleId: z.string(),
  prompt: z.string(),
  completion: z.string(),
  gold: z.string(),
  parsedAnswer: z.string().nullable(),
  correct: z.boolean(),
  truncated: z.boolean(),
  /** Character range `[start, end)` of the CoT span in `completion`. */
  cotRange: charRange,
  /** Character range of the answer span, null when no delimiter was produced. */
  answerRange: charRange.nullable(),
  /** Value of each named reward function (before weighting). */
  rewards: z.record(z.string(), z.number().nullable()),
  /** Total weighted reward. */
  reward: z.number(),
  advantage: z.number(),
  completionTokens: z.number().int().nonnegative(),
  tokens: z.array(SampleTokenSchema),
  /** Mask statistics when a saliency mask was fitted: `H = mean min(θ,0)`, gold CE before/after. */
  saliency: z
    .looseObject({
      H: z.number(),
      reward: z.number(),
      ceNoBias: z.number().optional(),
      ceInitial: z.number().optional(),
      ceFinal: z.number().optional(),
      fitSteps: z.number().int().optional(),
    })
    .optional(),
  /** CoT length in tokens. */
  cotTokens: z.number().int().nonnegative().optional(),
  /** Reasoning mode of the CoT (e.g. terse / verbose / bypass / other), when the task defines one. */
  mode: z.string().optional(),
  /** True for the fixed probe prompts logged every logged step (same `sampleId` each time). */
  probe: z.boolean().optional(),
});
/** Parsed line of `samples.jsonl`. */
export type SampleRecord = z.infer<typeof SampleRecordSchema>;

/** A curve in an evaluation report, with an optional random baseline. */
export const EvalCurveSchema = z.looseObject({
  name: z.string(),
  xLabel: z.string().default('x'),
  yLabel: z.string().default('y'),
  x: z.array(z.number()),
  y: z.array(z.number()),
  baseline: z.looseObject({ x: z.array(z.number()), y: z.array(z.number()) }).optional(),
  /** Area summarising the curve (`AOC` = area over, `AUC` = area under). */
  area: z
    .looseObject({
      kind: z.enum(['AOC', 'AUC']),
      value: z.number(),
      baseline: z.number().optional(),
    })
    .optional(),
});
/** A curve in an evaluation report. */
export type EvalCurve = z.infer<typeof EvalCurveSchema>;

/** `eval/<name>.json`: one evaluation report holding every curve point. */
export const EvalReportSchema = z.looseObject({
  version,
  name: z.string(),
  createdAt: z.string(),
  step: z.number().int().nonnegative().optional(),
  model: z.string(),
  dataset: z.looseObject({
    name: z.string(),
    split: z.string(),
    limit: z.number().int().optional(),
    seed: z.number().int(),
  }),
  /** Scalar results, e.g. `{ 'pass@1': 0.61, 'early_answering/aoc': 0.34 }`. */
  summary: z.record(z.string(), z.number().nullable()),
  curves: z.array(EvalCurveSchema),
  /** Optional per-item details. */
  items: z.array(z.unknown()).optional(),
});
/** Parsed `eval/<name>.json`. */
export type EvalReport = z.infer<typeof EvalReportSchema>;

/**
 * One line of `eval/<name>.samples.jsonl.gz` (gzip'd JSONL beside `eval/<name>.json`): one
 * completion an evaluation generated, so that its accuracy, CoT-length and mode numbers can be
 * recomputed from the stored samples. Per item: one `greedy` completion (the one the faithfulness
 * probes read) and `samples` sampled ones (the T > 0 pass@k samples; none when the temperature is
 * 0, where the report counts the greedy completion as every sample).
 */
export const EvalSampleRecordSchema = z.looseObject({
  version,
  /** The item's sample id. */
  itemId: z.string(),
  /** Index of the item in the evaluated order. */
  itemIndex: z.number().int().nonnegative(),
  /** `greedy` (temperature 0) or `sample` (one of the item's pass@k samples). */
  kind: z.enum(['greedy', 'sample']),
  /** Index among the item's samples of this kind (0 for the greedy one). */
  sampleIndex: z.number().int().nonnegative(),
  gold: z.string(),
  /** Generated token ids (EOS included when produced). */
  completionIds: z.array(z.number().int().nonnegative()),
  /** Decoded completion. */
  completion: z.string(),
  parsedAnswer: z.string().nullable(),
  correct: z.boolean(),
  /** An answer was parsed from the delimiter line (not by a fallback, and not unparsed). */
  isStrict: z.boolean(),
  /** Generation hit the token limit without EOS or a stop string. */
  truncated: z.boolean(),
  /** CoT length in tokens. */
  cotTokens: z.number().int().nonnegative(),
  /** Reasoning mode of the CoT, when the task defines modes. */
  mode: z.string().optional(),
});
/** Parsed line of `eval/<name>.samples.jsonl.gz`. */
export type EvalSampleRecord = z.infer<typeof EvalSampleRecordSchema>;

/** `checkpoints/latest.json`: pointer to the newest complete checkpoint (written last). */
export const CheckpointPointerSchema = z.looseObject({
  version,
  step: z.number().int().nonnegative(),
  /** Checkpoint folder relative to the run directory, e.g. `checkpoints/step-20`. */
  path: z.string(),
  createdAt: z.string(),
});
/** Parsed `checkpoints/latest.json`. */
export type CheckpointPointer = z.infer<typeof CheckpointPointerSchema>;

/** Input types (what writers pass; `version` is filled in). */
// A key-remapping mapped type, not Omit: Omit of a loose (index-signature) record type would
// collapse every known key into the index signature and lose their types.
export type WithoutVersion<T> = { [K in keyof T as K extends 'version' ? never : K]: T[K] };
