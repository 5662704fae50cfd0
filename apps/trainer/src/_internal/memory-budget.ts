// Checks before the first step that a policy-update micro-batch and a mask-fit job fit the wasm
// heap (4 GiB), from @atmanrl/model's memory estimates, and names the flag that fixes it. With
// --max-tokens-per-micro-batch a pass holds at most that many padded tokens (at least one row).
// With --recompute the estimates are those of activation recomputation. Only wasm has a hard heap
// limit; other backends are not checked.
import {
  headChunkBytes,
  type LlamaConfig,
  maskFitRowBytes,
  modelStateBytes,
  trainTokenBytes,
  WASM_HEAP_LIMIT_BYTES,
} from '@atmanrl/model';
import type { RunConfig } from '../config.js';
import { UsageError } from '../errors.js';

const GIB = 2 ** 30;
/**
 * The model package's estimates are upper bounds within 3× of the measured peak (its
 * memory.test.ts), so an estimate above 3 heaps cannot fit, and one above 1 heap may not.
 */
const OVERESTIMATE = 3;

/**
 * Estimated peak bytes of one update micro-batch of `rows` completions of `seqLen` tokens
 * (`recompute`: with activation recomputation, `--recompute`).
 */
export function updateBytes(
  model: LlamaConfig,
  rows: number,
  seqLen: number,
  beta: number,
  recompute = false,
): number {
  return (
    rows * seqLen * trainTokenBytes(model, seqLen, { recompute }) +
    headChunkBytes(model) +
    modelStateBytes(model, { trainable: true }) +
    (beta > 0 ? modelStateBytes(model, { trainable: false }) : 0)
  );
}

/**
 * Before anything runs, on wasm: throws a UsageError when an update micro-batch or a mask-fit job
 * of G items cannot fit the heap (its estimate is above 3 heaps), naming the smallest
 * `--gradient-accumulation-steps` whose estimate fits, or saying to shorten the completions;
 * returns a warning when the estimate is above the heap but the real peak may still fit.
 * @param promptLen the longest prompt in tokens
 */
export function checkMemoryBudget(
  config: RunConfig,
  model: LlamaConfig,
  backend: string,
  promptLen: number,
): string[] {
  if (backend !== 'wasm') return [];
  const heap = WASM_HEAP_LIMIT_BYTES;
  const n = config.promptsPerStep * config.numGenerations;
  const seqLen = promptLen + config.maxCompletionLength;
  const budget = config.maxTokensPerMicroBatch;
  // rows of one forward/backward pass: the micro-batch, or what the token budget packs (≥ 1)
  const passRows = (rows: number): number =>
    budget === null ? rows : Math.min(rows, Math.max(1, Math.floor(budget / seqLen)));
  const estimate = (k: number) =>
    updateBytes(model, passRows(n / k), seqLen, config.beta, config.recompute);
  const fits = (k: number) => estimate(k) <= heap;
  const k = config.gradientAccumulationSteps;
  const warnings: string[] = [];
  if (!fits(k) && estimate(k) <= OVERESTIMATE * heap) {
    warnings.push(
      `a ${passRows(n / k) < n / k ? 'pass' : 'micro-batch'} of ${passRows(n / k)} completions × ${seqLen} tokens is estimated at up to ${(estimate(k) / GIB).toFixed(1)} GiB of the ${(heap / GIB).toFixed(1)} GiB wasm heap; if the step fails with BACKEND_OUT_OF_MEMORY, raise --gradient-accumulation-steps or lower --max-tokens-per-micro-batch`,
    );
  }
  if (estimate(k) > OVERESTIMATE * heap) {
    const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
    const next = divisors.find((d) => d > k && fits(d));
    const need = (estimate(k) / GIB).toFixed(1);
    const flag =
      budget === null
        ? `--gradient-accumulation-steps ${k}`
        : `--max-tokens-per-micro-batch ${budget}`;
    throw new UsageError(
      'BAD_CONFIG',
      `${flag}: a ${passRows(n / k) < n / k ? 'pass' : 'micro-batch'} of ${passRows(n / k)} completions × ${seqLen} tokens is estimated at ${need} GiB (an upper estimate within 3× of the real peak), more than 3 × the wasm heap's ${(heap / GIB).toFixed(1)} GiB (vocabulary ${model.vocab_size}, width ${model.hidden_size}). ${next ? `Use --gradient-accumulation-steps ${next}` : 'Even one completion per micro-batch does not fit: lower --max-completion-length'}, or run on webgpu.`,
    );
  }
  if (config.saliencyReward) {
    const fitRows =
      budget === null
        ? config.numGenerations
        : Math.min(
            config.numGenerations,
            Math.max(1, Math.floor(budget / (promptLen + 1 + config.maxCompletionLength))),
          );
    const row = maskFitRowBytes(
      model,
      {
        promptLen,
        suffixLen: 1 + config.maxCompletionLength,
        answerLen: Math.min(16, config.maxCompletionLength),
      },
      { recompute: config.recompute },
    );
    const job = fitRows * row + modelStateBytes(model, { trainable: false });
    if (job > OVERESTIMATE * heap) {
      throw new UsageError(
        'BAD_CONFIG',
        `--num-generations ${config.numGenerations}: a mask-fit batch of ${fitRows} completions × ${1 + config.maxCompletionLength} tokens is estimated at ${(job / GIB).toFixed(1)} GiB, more than 3 × the wasm heap's ${(heap / GIB).toFixed(1)} GiB. Lower --max-completion-length, --num-generations or --max-tokens-per-micro-batch, or run on webgpu.`,
      );
    }
  }
  return warnings;
}
