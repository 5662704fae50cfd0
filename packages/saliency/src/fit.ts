// AtManRL's saliency mask fit (method.md §2): one θ per CoT token, bias scale·min(θ,0) on CoT keys,
// AdamW on θ alone against the gold-answer cross-entropy, all items of a batch at once.
// Leaves out reward composition (reward.ts) and the baselines (sweep.ts, gradient.ts).
import { type AdamWState, adamWStep, type CausalLM, initAdamW, packByTokens } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, requireGradients } from './_internal/checks.js';
import { buildLayout, checkItems } from './_internal/layout.js';
import { createObjective } from './_internal/objective.js';
import { SaliencyError } from './errors.js';
import type { Logger } from './logger.js';
import { maskStatistic, relevanceFromTheta } from './relevance.js';
import type { MaskFitResult, SaliencyItem } from './types.js';

/** Progress report passed to `onStep` after each AdamW step. */
export interface FitStepInfo {
  /** 1-based step just taken. */
  step: number;
  /** Per-item objective before this step (mean gold CE under the mask). */
  losses: number[];
  /** Items still being optimised (early stop), in the current micro-batch. */
  activeItems: number;
  /**
   * Index of the current micro-batch's first item (0 unless `maxBatchSize` or `maxTokensPerBatch`
   * splits the items).
   */
  batchStart: number;
  /** Input indices of the current micro-batch's items, ascending (`losses[i]` is item `batchItems[i]`). */
  batchItems: readonly number[];
}

/** Options of {@link fitSaliencyMasks}; defaults are the paper's (method.md §2). */
export interface FitSaliencyOptions {
  /** AdamW steps (default 200). */
  steps?: number;
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** AdamW (β1, β2) (default (0.6, 0.9999)). */
  betas?: readonly [number, number];
  /** Decoupled weight decay as torch.optim.AdamW (default 0.05). */
  weightDecay?: number;
  /** AdamW eps (default 1e-8). */
  eps?: number;
  /** θ initialisation c (default -0.4; must be negative). */
  init?: number;
  /** Bias scale: bias_j = scale·min(θ_j, 0) (default 10). */
  scale?: number;
  /** Query rows that get the bias (default 'all'); 'answer' = the rows whose logits predict the gold answer. */
  queries?: 'all' | 'answer';
  /** Compute prompt[:-1] keys/values once and reuse them every step (default true; exact). */
  prefixReuse?: boolean;
  /**
   * Per-item early stop on a loss plateau (default off): an item stops once its loss has not
   * improved by more than `minDelta` (default 1e-4) for `patience` consecutive steps.
   */
  earlyStop?: { patience: number; minDelta?: number };
  /**
   * Fit at most this many items per forward pass (default: all at once). Items are independent,
   * so splitting is exact; it bounds memory (attention scores are `[B,H,S,T]` per layer).
   */
  maxBatchSize?: number;
  /**
   * Fit at most this many padded tokens per forward pass (default: no limit): items are sorted by
   * length, longest first, and packed greedily into batches whose `B × (longest prompt + longest
   * CoT+delimiter+answer)` stays within it (and within `maxBatchSize` items when that is set too);
   * an item longer than the budget is fitted alone. Exact up to float rounding of the padding, like
   * `maxBatchSize`; results stay in input order.
   */
  maxTokensPerBatch?: number;
  /**
   * Compute the diagnostic CEs `ceNoBias` (no mask) and `ceFinal` (the fitted mask), one forward
   * pass each per batch (default true). false leaves both NaN and saves those two passes, about a
   * tenth of a 7-step fit; θ, H, relevance, `losses` and `ceInitial` do not depend on it.
   */
  diagnostics?: boolean;
  /** Called after every step with the per-item losses (read back once per step). */
  onStep?: (info: FitStepInfo) => void;
  logger?: Logger;
}

interface Resolved {
  steps: number;
  lr: number;
  betas: readonly [number, number];
  weightDecay: number;
  eps: number;
  init: number;
  scale: number;
  queries: 'all' | 'answer';
  prefixReuse: boolean;
  diagnostics: boolean;
}

function resolve(options: FitSaliencyOptions): Resolved {
  const w = 'fitSaliencyMasks';
  const r: Resolved = {
    steps: options.steps ?? 200,
    lr: options.lr ?? 1e-3,
    betas: options.betas ?? [0.6, 0.9999],
    weightDecay: options.weightDecay ?? 0.05,
    eps: options.eps ?? 1e-8,
    init: options.init ?? -0.4,
    scale: options.scale ?? 10,
    queries: options.queries ?? 'all',
    prefixReuse: options.prefixReuse ?? true,
    diagnostics: options.diagnostics ?? true,
  };
  checkNumber(w, 'steps', r.steps, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  checkNumber(w, 'lr', r.lr, (x) => x >= 0, 'a non-negative number');
  checkNumber(w, 'betas[0]', r.betas[0], (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  checkNumber(w, 'betas[1]', r.betas[1], (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  checkNumber(w, 'weightDecay', r.weightDecay, (x) => x >= 0, 'a non-negative number');
  checkNumber(w, 'eps', r.eps, (x) => x > 0, 'a positive number');
  checkNumber(w, 'init', r.init, (x) => x < 0, 'a negative number (c < 0, method.md §2)');
  checkNumber(w, 'scale', r.scale, (x) => x > 0, 'a positive number');
  if (typeof r.diagnostics !== 'boolean') {
    throw new SaliencyError(
      'BAD_OPTION',
      `${w}: diagnostics is ${String(r.diagnostics)}, expected true or false`,
    );
  }
  if (r.queries !== 'all' && r.queries !== 'answer') {
    throw new SaliencyError(
      'BAD_OPTION',
      `${w}: queries is ${String(r.queries)}, expected 'all' or 'answer'`,
    );
  }
  if (options.maxBatchSize !== undefined) {
    checkNumber(
      w,
      'maxBatchSize',
      options.maxBatchSize,
      (x) => Number.isInteger(x) && x >= 1,
      'a positive integer',
    );
  }
  if (options.maxTokensPerBatch !== undefined) {
    checkNumber(
      w,
      'maxTokensPerBatch',
      options.maxTokensPerBatch,
      (x) => Number.isInteger(x) && x >= 1,
      'a positive integer (padded tokens per batch)',
    );
  }
  if (options.earlyStop) {
    checkNumber(
      w,
      'earlyStop.patience',
      options.earlyStop.patience,
      (x) => Number.isInteger(x) && x >= 1,
      'a positive integer',
    );
  }
  return r;
}

/**
 * Fits one AtManRL saliency mask per item, all items in one batch (method.md §2).
 *
 * For item b with CoT length n_b: θ_b ∈ R^{n_b} starts at `init` (c); the forward pass of
 * `prompt + CoT + delimiter + goldAnswer` adds `scale · min(θ_bj, 0)` to the pre-softmax score of
 * CoT key j (every layer and head; query rows per `queries`), 0 on every other key; the objective
 * is the mean cross-entropy of the gold-answer tokens. The model is frozen: gradients are taken
 * with respect to θ only (`tf.valueAndGrad` of a function of θ).
 *
 * Batching: the loss minimised is the SUM over items of each item's mean CE. Rows of a batch do
 * not interact in the forward pass and AdamW is element-wise, so each θ_b follows exactly the
 * trajectory it would follow alone (a batch mean would scale every gradient by 1/B and, through
 * Adam's eps, make results depend on the batch size). Padding slots of θ are frozen and excluded.
 *
 * Cost: the prompt prefix never sees a CoT key (causality), so its keys/values are computed once
 * into a KV cache and every step recomputes only `[last prompt token, CoT, delimiter, answer]`
 * (`prefixReuse: false` recomputes everything, for benchmarks and checks). Besides one forward
 * and one backward pass per step, a fit runs two forward-only passes: the CE without a mask and
 * under the fitted mask (the CE under the initial mask is step 1's loss); `diagnostics: false`
 * skips both. Each pass computes the last layer for the answer rows only (`outputRows`): the loss
 * reads no other row.
 *
 * @param model a frozen causal LM (its variables are not updated)
 * @param items prompt / CoT / delimiter / gold answer ids per item
 * @param options steps, lr, betas, weightDecay, init, scale, queries, prefixReuse, earlyStop,
 *   maxBatchSize, maxTokensPerBatch, diagnostics, onStep
 * @returns one {@link MaskFitResult} per item, in input order
 * @throws SaliencyError `BAD_ITEM`, `BAD_OPTION`, `NO_GRADIENTS`; `NON_FINITE` when a loss, a CE
 *   or H of an item is NaN/±Infinity (names the item)
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';
 * import { fitSaliencyMasks } from '@atmanrl/saliency';
 * await initBackend({ prefer: 'cpu' });
 * const tokenizer = createTinyTokenizer();
 * const model = createRandomModel(
 *   { vocab_size: TINY_VOCAB_SIZE, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1 },
 *   0,
 *   { tokenizer },
 * );
 * const item = {
 *   promptIds: tokenizer.encode('Q: 2+3*4=?', { addSpecialTokens: false }),
 *   cotIds: tokenizer.encode(' 3*4=12. 2+12=14.', { addSpecialTokens: false }),
 *   delimiterIds: tokenizer.encode(' ####', { addSpecialTokens: false }),
 *   goldAnswerIds: tokenizer.encode(' 14', { addSpecialTokens: false }),
 * };
 * const [fit] = await fitSaliencyMasks(model, [item], { steps: 20 }); // the paper: 200 steps, lr 1e-3
 * console.log(fit!.theta.length, fit!.h, fit!.ceInitial, fit!.ceFinal); // one θ per CoT token; H; CE before/after
 * model.dispose();
 * ```
 */
export async function fitSaliencyMasks(
  model: CausalLM,
  items: readonly SaliencyItem[],
  options: FitSaliencyOptions = {},
): Promise<MaskFitResult[]> {
  const o = resolve(options);
  requireGradients('fitSaliencyMasks');
  // Every item before any fit, so a bad one is named by its input index, not its index in a batch.
  checkItems(items, model.config.vocab_size);
  const results = new Array<MaskFitResult>(items.length);
  for (const batch of fitBatches(items, options)) {
    const fitted = await fitBatch(
      model,
      batch.map((i) => items[i]!),
      o,
      options,
      batch,
    );
    batch.forEach((i, k) => {
      results[i] = fitted[k]!;
    });
  }
  return results;
}

/**
 * The cut of `items` into fit batches (input indices): consecutive runs of `maxBatchSize` items
 * (one batch without it), or with `maxTokensPerBatch` a greedy packing, longest item first, of
 * batches within both limits (padded tokens of a batch: B × (P-1+S) of its layout). An empty
 * `items` gives one empty batch, which buildLayout rejects.
 */
function fitBatches(items: readonly SaliencyItem[], options: FitSaliencyOptions): number[][] {
  if (items.length === 0) return [[]];
  const indices = items.map((_, i) => i);
  const budget = options.maxTokensPerBatch;
  const size = options.maxBatchSize ?? items.length;
  if (budget === undefined) {
    const out: number[][] = [];
    for (let start = 0; start < items.length; start += size) {
      out.push(indices.slice(start, start + size));
    }
    return out;
  }
  return packByTokens(
    items.map((it) => ({
      head: it.promptIds.length,
      tail: it.cotIds.length + it.delimiterIds.length + it.goldAnswerIds.length,
    })),
    budget,
    size,
  );
}

/**
 * Second line of defence behind the backend's own checks: a NaN/Infinity loss or statistic means
 * the forward or backward pass went wrong, and must not become a reward.
 * @throws SaliencyError `NON_FINITE` naming the first bad item (input index, `batchItems[i]`)
 */
function requireFinite(
  values: ArrayLike<number>,
  what: string,
  batchItems: readonly number[],
  active?: readonly boolean[],
): void {
  for (let i = 0; i < values.length; i++) {
    if (active && !active[i]) continue;
    const x = values[i]!;
    if (!Number.isFinite(x)) {
      throw new SaliencyError(
        'NON_FINITE',
        `fitSaliencyMasks: item ${batchItems[i] ?? i}: ${what} is ${x}; expected a finite number. ` +
          'The model or the backend produced non-finite values (check the weights, the ' +
          "backend's memory and the item's token ids); no saliency result was returned.",
      );
    }
  }
}

async function fitBatch(
  model: CausalLM,
  items: readonly SaliencyItem[],
  o: Resolved,
  options: FitSaliencyOptions,
  batchItems: readonly number[],
): Promise<MaskFitResult[]> {
  const layout = buildLayout(items, model.config.vocab_size, model.config.pad_token_id ?? 0);
  const { batch: b, cotMax } = layout;
  const objective = createObjective(model, layout, {
    prefixReuse: o.prefixReuse,
    queries: o.queries,
  });
  let theta: tf.Tensor2D | undefined;
  let state: AdamWState | undefined;
  const cotMask = tf.tensor2d(layout.cotMask, [b, cotMax]);
  const losses: number[][] = items.map(() => []);
  const stepsTaken = new Array<number>(b).fill(0);
  const active = layout.cotLens.map((n) => n > 0);
  const best = new Array<number>(b).fill(Number.POSITIVE_INFINITY);
  const wait = new Array<number>(b).fill(0);
  const patience = options.earlyStop?.patience ?? Number.POSITIVE_INFINITY;
  const minDelta = options.earlyStop?.minDelta ?? 1e-4;
  try {
    theta = tf.fill([b, cotMax], o.init) as tf.Tensor2D;
    state = initAdamW(theta);
    // A forward-only CE per item, without a mask or under θ's (read back, checked finite).
    const evaluate = async (what: string, masked: boolean): Promise<number[]> => {
      const ce = tf.tidy(() =>
        objective.perItemCe(masked ? { bias: objective.biasFromTheta(theta!, o.scale) } : {}),
      );
      const values = Array.from(await ce.data());
      ce.dispose();
      requireFinite(values, what, batchItems);
      return values;
    };
    const unset = () => new Array<number>(b).fill(Number.NaN); // diagnostics: false
    const ceNoBias = o.diagnostics
      ? await evaluate('the gold-answer CE without a mask', false)
      : unset();
    // The CE under the initial mask is step 1's loss (the same forward at θ = c), so it costs no
    // pass of its own unless no step runs.
    let ceInitial: number[] | null = null;
    const ones = tf.ones([b]) as tf.Tensor1D;
    const lossOf = (th: tf.Tensor) =>
      objective.perItemCe({ bias: objective.biasFromTheta(th as tf.Tensor2D, o.scale) });
    try {
      for (let step = 1; step <= o.steps && cotMax > 0 && active.some((a) => a); step++) {
        const th = theta;
        const st = state;
        const activeRows = tf.tensor2d(
          active.map((a) => (a ? 1 : 0)),
          [b, 1],
        );
        const out = tf.tidy(() => {
          const { value, grad } = tf.valueAndGrad(lossOf)(th, ones); // value [B], grad [B,Cmax]
          const mask = tf.mul(cotMask, activeRows); // [B,Cmax]
          const upd = adamWStep(th, grad, st, o, mask);
          return { value, param: upd.param, m: upd.state.m, v: upd.state.v };
        });
        activeRows.dispose();
        theta.dispose();
        state.m.dispose();
        state.v.dispose();
        theta = out.param as tf.Tensor2D;
        state = { m: out.m, v: out.v, step };
        const values = await out.value.data();
        out.value.dispose();
        requireFinite(values, `the mask-fit loss at step ${step}`, batchItems, active);
        if (step === 1) ceInitial = Array.from(values);
        for (let i = 0; i < b; i++) {
          if (!active[i]) continue;
          const loss = values[i]!;
          losses[i]!.push(loss);
          stepsTaken[i] = step;
          if (loss < best[i]! - minDelta) {
            best[i] = loss;
            wait[i] = 0;
          } else if (++wait[i]! >= patience) {
            active[i] = false;
            options.logger?.info(
              `fitSaliencyMasks: item ${batchItems[i]} stopped at step ${step} (loss plateau)`,
            );
          }
        }
        options.onStep?.({
          step,
          losses: Array.from(values),
          activeItems: active.filter((a) => a).length,
          batchStart: batchItems[0] ?? 0,
          batchItems,
        });
      }
    } finally {
      ones.dispose();
    }
    ceInitial ??= await evaluate('the gold-answer CE under the initial mask', true); // no step ran
    requireFinite(ceInitial, 'the gold-answer CE under the initial mask', batchItems);
    const ceFinal = o.diagnostics
      ? await evaluate('the gold-answer CE under the fitted mask', true)
      : unset();
    const thetaFlat = await theta.data();
    return items.map((item, i) => {
      const n = layout.cotLens[i]!;
      const th = Array.from(thetaFlat.subarray(i * cotMax, i * cotMax + n));
      const h = maskStatistic(th, o.init);
      requireFinite([h], 'the mask statistic H (mean of min(θ, 0))', [batchItems[i] ?? i]);
      return {
        method: 'atmanrl' as const,
        cotIds: [...item.cotIds],
        theta: th,
        h,
        relevance: relevanceFromTheta(th, o.init),
        losses: losses[i]!,
        ceNoBias: ceNoBias[i]!,
        ceInitial: ceInitial[i]!,
        ceFinal: ceFinal[i]!,
        steps: stepsTaken[i]!,
      };
    });
  } finally {
    theta?.dispose();
    state?.m.dispose();
    state?.v.dispose();
    cotMask.dispose();
    objective.dispose();
  }
}
