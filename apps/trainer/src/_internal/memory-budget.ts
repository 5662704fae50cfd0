// Checks before the first step that a generation pass, a policy-update micro-batch and a mask-fit
// job fit the wasm heap (4 GiB), from @atmanrl/model's memory estimates (generation: the terms of
// generationBytes below), and names the flag that fixes it: the option of the dominant term (a
// long prompt is fixed by --max-prompt-length, not --max-completion-length). With
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

/** One term of {@link generationBytes}. */
export interface MemoryTerm {
  /** What it is, with its factors, e.g. `the KV cache (8 rows × 4 layers × 3,099 positions)`. */
  what: string;
  bytes: number;
  /** The option that shrinks it most directly. */
  fix: string;
}

/**
 * Estimated peak bytes of one generation job of `rows` completions of one prompt of `promptLen`
 * tokens and up to `completionLen` new tokens, in passes of `passRows` rows (a worker's model
 * copy included): the terms, largest first, and their sum. The prompt's forward pass keeps every
 * layer's activations and attention scores until the pass ends (passRows × layers × promptLen ×
 * (width + heads × promptLen)); the KV caches of all the job's rows live through the job (rows ×
 * layers × context); a decoding step holds one token's activations per row and the logits.
 */
export function generationBytes(
  model: LlamaConfig,
  shape: { rows: number; passRows: number; promptLen: number; completionLen: number },
  options: { trainableModel?: boolean } = {},
): { total: number; terms: MemoryTerm[] } {
  const F32 = 4;
  const d = model.hidden_size;
  const q = model.num_attention_heads * model.head_dim;
  const kv = model.num_key_value_heads * model.head_dim;
  const layers = model.num_hidden_layers;
  const heads = model.num_attention_heads;
  const context = shape.promptLen + shape.completionLen;
  // per token and layer: norms, projections (q/k with RoPE), attention output, MLP, residuals
  const tokenLayer = 10 * d + 6 * q + 6 * kv + 5 * model.intermediate_size;
  const nf = (n: number) => n.toLocaleString('en-US');
  const lengthFix =
    shape.promptLen >= shape.completionLen
      ? `--max-prompt-length (the longest prompt is ${nf(shape.promptLen)} tokens)`
      : `--max-completion-length (${nf(shape.completionLen)} tokens)`;
  const passFix =
    shape.passRows > 1
      ? `--generation-batch-size (now ${shape.passRows} completions per pass)`
      : lengthFix;
  const terms: MemoryTerm[] = [
    {
      what: `the prompt's forward pass (${shape.passRows} rows × ${layers} layers × ${nf(shape.promptLen)} prompt tokens × (width ${d} + ${heads} heads × ${nf(shape.promptLen)} keys))`,
      bytes:
        F32 *
        shape.passRows *
        layers *
        shape.promptLen *
        (tokenLayer + 5 * heads * shape.promptLen),
      fix: shape.promptLen >= shape.completionLen ? `${passFix} or ${lengthFix}` : passFix,
    },
    {
      what: `the KV cache (${shape.rows} rows × ${layers} layers × ${nf(context)} positions of context)`,
      bytes: F32 * shape.rows * layers * 2 * kv * context,
      fix: lengthFix,
    },
    {
      what: `a decoding step (${shape.passRows} rows × ${layers} layers × ${nf(context)} keys, and the vocabulary's ${nf(model.vocab_size)} logits)`,
      bytes:
        F32 * shape.passRows * (layers * (tokenLayer + 5 * heads * context) + 3 * model.vocab_size),
      fix: passFix,
    },
    {
      what: `the model's weights (${options.trainableModel ? 'with gradients and optimizer moments, in-process' : "a worker's copy"})`,
      bytes: modelStateBytes(model, { trainable: options.trainableModel ?? false }),
      fix: 'a smaller model, or webgpu',
    },
  ];
  // the prompt pass and the decoding steps do not overlap; the cache and the weights stay
  const [prefill, cache, decode, weights] = terms as [
    MemoryTerm,
    MemoryTerm,
    MemoryTerm,
    MemoryTerm,
  ];
  const total = Math.max(prefill.bytes, decode.bytes) + cache.bytes + weights.bytes;
  return { total, terms: [...terms].sort((a, b) => b.bytes - a.bytes) };
}

/**
 * The generation part of {@link checkMemoryBudget}: one generate job (one prompt, G completions,
 * in passes of `generationBatchSize`) on wasm. Throws above 3 heaps naming the dominant term and
 * its option (and the largest `--generation-batch-size` that fits, when one does); returns a
 * warning above one heap.
 */
export function checkGenerationBudget(
  config: RunConfig,
  model: LlamaConfig,
  promptLen: number,
  generationBatchSize: number | null,
): string[] {
  const heap = WASM_HEAP_LIMIT_BYTES;
  const rows = config.numGenerations; // one prompt per generate job (PooledRolloutEngine)
  const inProcess = config.workers !== null && config.workers <= 1;
  const at = (passRows: number) =>
    generationBytes(
      model,
      { rows, passRows, promptLen, completionLen: config.maxCompletionLength },
      { trainableModel: inProcess },
    );
  const passRows = Math.min(rows, generationBatchSize ?? rows);
  const est = at(passRows);
  if (est.total <= heap) return [];
  const top = est.terms[0]!;
  const gib = (b: number) => `${(b / GIB).toFixed(1)} GiB`;
  const smaller = Array.from({ length: passRows - 1 }, (_, i) => passRows - 1 - i).find(
    (b) => at(b).total <= heap,
  );
  const what = `a generation pass of ${passRows} completions of a ${promptLen}-token prompt (+ up to ${config.maxCompletionLength} new tokens) is estimated at ${est.total > OVERESTIMATE * heap ? '' : 'up to '}${gib(est.total)}; the largest term is ${top.what}: ${gib(top.bytes)}`;
  const fix = `${smaller !== undefined ? `--generation-batch-size ${smaller} fits (the completions do not change, and it may change on --resume); ` : ''}else lower ${top.fix}`;
  if (est.total > OVERESTIMATE * heap) {
    throw new UsageError(
      'BAD_CONFIG',
      `${what}, more than 3 × the wasm heap's ${gib(heap)}. ${fix}, or run on webgpu.`,
    );
  }
  return [
    `${what} of the ${gib(heap)} wasm heap; if generation fails with BACKEND_OUT_OF_MEMORY: ${fix}`,
  ];
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
      `${flag}: a ${passRows(n / k) < n / k ? 'pass' : 'micro-batch'} of ${passRows(n / k)} completions × ${seqLen} tokens is estimated at ${need} GiB (an upper estimate within 3× of the real peak), more than 3 × the wasm heap's ${(heap / GIB).toFixed(1)} GiB (vocabulary ${model.vocab_size}, width ${model.hidden_size}). ${next ? `Use --gradient-accumulation-steps ${next}` : `Even one completion per micro-batch does not fit: lower ${lengthOption(promptLen, config.maxCompletionLength)}`}, or run on webgpu.`,
    );
  }
  warnings.push(...checkGenerationBudget(config, model, promptLen, config.generationBatchSize));
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
        `--num-generations ${config.numGenerations}: a mask-fit batch of ${fitRows} completions × ${1 + config.maxCompletionLength} tokens after a ${promptLen}-token prompt is estimated at ${(job / GIB).toFixed(1)} GiB, more than 3 × the wasm heap's ${(heap / GIB).toFixed(1)} GiB. Lower ${lengthOption(promptLen, 1 + config.maxCompletionLength)}, --num-generations or --max-tokens-per-micro-batch, or run on webgpu.`,
      );
    }
  }
  return warnings;
}

/**
 * The length option that shrinks a sequence of `promptLen` + `completionLen` tokens most: the
 * longer part's (issue 35: a 3,095-token prompt with 4-token completions needs
 * --max-prompt-length, not --max-completion-length).
 */
export function lengthOption(promptLen: number, completionLen: number): string {
  return promptLen >= completionLen
    ? `--max-prompt-length (the prompts, up to ${promptLen} tokens, are most of each sequence)`
    : '--max-completion-length';
}
