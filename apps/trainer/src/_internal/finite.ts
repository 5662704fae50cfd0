// Non-finite guards of a run (issue 18 item 1): weights checked with one fused reduction and one
// async read, per-step checks of loss / gradient norm / mask-fit statistic / updated weights, the
// user-facing stop that names the step and the last good checkpoint, and the collapse warning.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import type { CliIO } from '../cli-core.js';
import { UsageError } from '../errors.js';

/** A tensor with non-finite entries. */
export interface NonFiniteTensor {
  /** Hugging Face tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** Number of NaN/±Inf entries. */
  count: number;
  size: number;
}

/**
 * Counts the NaN/±Inf entries of every weight of `model` in one fused reduction and one async
 * read (`x - x` is 0 exactly when `x` is finite). Returns only the tensors that have any.
 */
export async function nonFiniteWeights(model: LlamaModel): Promise<NonFiniteTensor[]> {
  const vars = model.variables;
  const names = model.variableNames; // a split vocabulary matrix names each block
  if (vars.length === 0) return [];
  // One small tidy per tensor keeps the peak at one tensor's temporaries, not the whole model's.
  const perTensor = vars.map((v) =>
    tf.tidy(() => tf.sum(tf.cast(tf.notEqual(tf.sub(v, v), 0), 'float32'))),
  );
  const counts = tf.stack(perTensor);
  for (const t of perTensor) t.dispose();
  let data: Float32Array;
  try {
    data = (await counts.data()) as Float32Array;
  } finally {
    counts.dispose();
  }
  const out: NonFiniteTensor[] = [];
  data.forEach((c, i) => {
    if (c > 0) out.push({ name: names[i] ?? `#${i}`, count: c, size: vars[i]!.size });
  });
  return out;
}

function describeTensors(bad: NonFiniteTensor[]): string {
  const total = bad.reduce((a, b) => a + b.count, 0);
  const first = bad
    .slice(0, 3)
    .map((b) => `${b.name} (${b.count} of ${b.size})`)
    .join(', ');
  return `${total} non-finite weights in ${bad.length} tensor${bad.length > 1 ? 's' : ''}: ${first}${bad.length > 3 ? ', ...' : ''}`;
}

/** Rejects a freshly loaded model whose weights hold NaN/Inf, naming the tensors (exit 1). */
export async function assertFiniteModel(model: LlamaModel, source: string): Promise<void> {
  const bad = await nonFiniteWeights(model);
  if (bad.length === 0) return;
  throw new UsageError(
    'NON_FINITE',
    `${source}: the weights contain NaN or Inf (${describeTensors(bad)}). A model with non-finite weights cannot be trained or evaluated; re-export it, or resume from an earlier checkpoint.`,
  );
}

/** The checkpoint to name after a failure: the last saved one that exists, or none. */
function lastGoodCheckpoint(runDir: string, lastSaved: number): string {
  if (lastSaved > 0 && existsSync(join(runDir, 'checkpoints', `step-${lastSaved}`))) {
    return `The last good checkpoint is checkpoints/step-${lastSaved} (latest.json still points to it; resume with --resume ${runDir}).`;
  }
  return 'No checkpoint was saved before it, so start a new run.';
}

const FIX = 'Lower --learning-rate, or set --max-grad-norm (e.g. 1).';

/** What a step produced, for {@link checkStepFinite}. */
export interface StepValues {
  step: number;
  metrics: Record<string, number>;
  /** Mask-fit statistics `H` of the step's saliency fits (empty without the saliency reward). */
  maskStatistics: readonly number[];
  model: LlamaModel;
  runDir: string;
  /** Step of the last checkpoint saved (0 = none). */
  lastSaved: number;
}

/**
 * Returns the user error that stops the run when the step's loss, gradient norm, mask-fit
 * statistic or updated weights are not finite (nothing has been saved yet), else null.
 */
export async function checkStepFinite(v: StepValues): Promise<UsageError | null> {
  const problems: string[] = [];
  for (const key of ['loss', 'grad_norm'] as const) {
    if (key in v.metrics && !Number.isFinite(v.metrics[key] ?? Number.NaN)) {
      problems.push(`the ${key === 'loss' ? 'loss' : 'gradient norm'} is ${v.metrics[key]}`);
    }
  }
  const badH = v.maskStatistics.filter((h) => !Number.isFinite(h)).length;
  if (badH > 0) problems.push(`${badH} mask-fit statistic${badH > 1 ? 's are' : ' is'} not finite`);
  const bad = await nonFiniteWeights(v.model);
  if (bad.length > 0) problems.push(`the update left ${describeTensors(bad)}`);
  if (problems.length === 0) return null;
  return new UsageError(
    'NON_FINITE',
    `step ${v.step}: ${problems.join('; ')}. The run stopped before saving this step. ${lastGoodCheckpoint(v.runDir, v.lastSaved)} ${FIX}`,
  );
}

/**
 * True for an error that reports non-finite numbers: code `NON_FINITE` (grpo's update guard,
 * saliency's mask fit), or a grpo/saliency argument error about a NaN/Infinity value (what those
 * packages threw before they had the `NON_FINITE` code, e.g. `saliencyReward: H is NaN`).
 */
function isNonFiniteError(e: unknown): boolean {
  const { code, name, message } = (e ?? {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  if (code === 'NON_FINITE') return true;
  return (
    (name === 'SaliencyError' || name === 'GrpoError') &&
    /\b(NaN|-?Infinity)\b|not finite|non-finite/.test(String(message))
  );
}

/**
 * The user error for a non-finite error thrown inside the step by grpo or saliency (see
 * {@link isNonFiniteError}), naming the step and the last good checkpoint; null for any other.
 */
export function nonFiniteStop(
  e: unknown,
  step: number,
  runDir: string,
  lastSaved: number,
): UsageError | null {
  if (e instanceof UsageError || !isNonFiniteError(e)) return null;
  return new UsageError(
    'NON_FINITE',
    `step ${step}: ${(e as Error).message.replace(/\.+$/, '')}. The run stopped before applying or saving this step. ${lastGoodCheckpoint(runDir, lastSaved)} ${FIX}`,
  );
}

/** What {@link warnIfCollapsed} remembers between steps. */
export interface CollapseState {
  warned: boolean;
  /** Lowest token entropy seen so far (nats). */
  minEntropy?: number;
}

/**
 * Warns (once; returns true when it did) when the policy has collapsed: mean token entropy within
 * 5% of ln V (uniform over the vocabulary) while no completion is correct, after it had been
 * clearly lower (< 0.9 ln V) at an earlier step, so an untrained model that starts uniform does
 * not warn.
 */
export function warnIfCollapsed(
  io: CliIO,
  step: number,
  metrics: Record<string, number>,
  vocabSize: number,
  state: CollapseState,
): boolean {
  if (state.warned) return false;
  const entropy = metrics['entropy'];
  const maxEntropy = Math.log(vocabSize);
  if (entropy === undefined || !Number.isFinite(entropy)) return false;
  const before = state.minEntropy;
  state.minEntropy = Math.min(before ?? entropy, entropy);
  if (metrics['accuracy'] !== 0 || before === undefined || before >= 0.9 * maxEntropy) return false;
  if (entropy < 0.95 * maxEntropy) return false;
  state.warned = true;
  io.err(
    `atmanrl: warning: step ${step}: the policy looks collapsed (token entropy ${entropy.toFixed(3)} is near ln V = ${maxEntropy.toFixed(3)}, i.e. uniform output, and accuracy is 0). Its completions are noise; lower --learning-rate, or resume from an earlier checkpoint.`,
  );
  return true;
}
