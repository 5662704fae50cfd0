// The truncation-reward control (issue 29), in the style of the causal importance of reasoning of
// Yu et al., "Outcome Rewards Do Not Guarantee Verifiable or Causally Important Reasoning"
// (arXiv 2604.22074): how much the gold answer's probability drops when the CoT is cut short.
// Forward passes only; a second estimator, beside the mask fit, of how much the answer needs the
// CoT. Leaves out generation (the answer is teacher-forced) and composition with other rewards.
//
// Formula (docs/method.md §4, "Controls"), for a completion with CoT C (n = |C| tokens):
//   p(k)  = Π_a p(A_a | P, C[:k], delimiter, A[:a])      teacher-forced gold answer A after the
//                                                          first k CoT tokens and the delimiter
//   r     = mean over f in F of ( p(n) - p(⌊f·n⌋) )      F = {0, 0.2, 0.4, 0.6, 0.8} by default
// r ∈ [-1, 1]: near 0 when cutting the CoT leaves the gold answer as likely (the CoT is not needed,
// e.g. the answer is read from the prompt), high when the answer needs the whole CoT, negative when
// the CoT makes the gold answer less likely than its prefixes do. An empty CoT gets 0.
import type { CausalLM } from '@atmanrl/model';
import { gatedItems, itemKey } from './_internal/gated-items.js';
import { buildLayout, checkItems } from './_internal/layout.js';
import { createObjective } from './_internal/objective.js';
import type { CompletionSpans, SplitTokenizer, TextSplit } from './completion-split.js';
import { SaliencyError } from './errors.js';
import type { RewardCost } from './reward-cost.js';
import type { RewardCallContext, RewardCompletion, SaliencyItem } from './types.js';

/** The default truncation points: 0, 20, 40, 60 and 80 % of the CoT's tokens. */
export const DEFAULT_TRUNCATION_FRACTIONS: readonly number[] = [0, 0.2, 0.4, 0.6, 0.8];

/** Options of {@link createTruncationReward}. */
export interface TruncationRewardOptions<S> {
  /** The policy; frozen (its weights at scoring time are used). */
  model: CausalLM;
  tokenizer: SplitTokenizer;
  /** The gold answer text of a sample (teacher-forced after every truncated CoT). */
  gold: (sample: S) => string;
  /** Character split of a completion's text, e.g. datasets' `splitCompletion` with the task's kind and delimiter. */
  split: (text: string) => TextSplit;
  /** The answer delimiter (used when a completion has none). */
  delimiter: string;
  /** Kept shares of the CoT, each in [0, 1) (default {@link DEFAULT_TRUNCATION_FRACTIONS}). */
  fractions?: readonly number[];
  /** Sequences per forward pass (default 64); bounds memory. */
  maxBatchSize?: number;
  /** Serve prompt[:-1] from a KV cache computed once per batch (default true; exact). */
  prefixReuse?: boolean;
  /**
   * Which completions count (as `createSaliencyReward`'s gate): the others get no forward pass and
   * the value NaN, which grpo counts as 0 in the total.
   */
  gate?: (index: number, rewards: Readonly<Record<string, readonly number[]>>) => boolean;
}

/** What the truncation reward records per completion. */
export interface TruncationRewardInfo {
  /** The completion's token split (the one split the saliency reward and eval use). */
  spans: CompletionSpans;
  /** p(n): the gold answer's probability after the whole CoT; null when gated out. */
  pFull: number | null;
  /** CoT tokens kept at each fraction, `⌊f·n⌋` (empty when gated out). */
  keptTokens: number[];
  /** p(⌊f·n⌋) at each fraction (empty when gated out). */
  pTruncated: number[];
  /** Per-rollout cost of the call (forward passes only). */
  cost: RewardCost;
}

/** A truncation reward function (a grpo `RewardFn` by structure). */
export type TruncationRewardFn<S> = (
  samples: readonly S[],
  completions: readonly RewardCompletion[],
  ctx: RewardCallContext,
) => Promise<{ values: number[]; info: TruncationRewardInfo[] }>;

/**
 * The reward from the probabilities (the formula of the file header): `mean_f (pFull - p_f)`.
 * @example
 * ```ts
 * import { truncationRewardValue } from '@atmanrl/saliency';
 * console.log(truncationRewardValue(0.9, [0.1, 0.1, 0.5, 0.9, 0.9])); // (0.8+0.8+0.4+0+0)/5 = 0.4
 * ```
 * @throws SaliencyError `BAD_ARGUMENT` for no truncations or a probability outside [0, 1]
 */
export function truncationRewardValue(pFull: number, pTruncated: readonly number[]): number {
  const ok = (p: number) => Number.isFinite(p) && p >= 0 && p <= 1;
  if (pTruncated.length === 0)
    throw new SaliencyError('BAD_ARGUMENT', 'truncationRewardValue: no truncated probabilities');
  if (!ok(pFull) || !pTruncated.every(ok)) {
    throw new SaliencyError(
      'BAD_ARGUMENT',
      `truncationRewardValue: probabilities must be in [0, 1], got pFull ${pFull} and [${pTruncated.join(', ')}]`,
    );
  }
  return pTruncated.reduce((s, p) => s + (pFull - p), 0) / pTruncated.length;
}

/**
 * CoT tokens kept at each fraction: `⌊f·n⌋` (a tolerance of 1e-9 keeps `0.6·5` at 3).
 * @example
 * ```ts
 * import { keptTokenCounts } from '@atmanrl/saliency';
 * console.log(keptTokenCounts(7, [0, 0.2, 0.4, 0.6, 0.8])); // [0, 1, 2, 4, 5]
 * ```
 */
export function keptTokenCounts(n: number, fractions: readonly number[]): number[] {
  return fractions.map((f) => Math.min(n, Math.floor(f * n + 1e-9)));
}

function checkOptions<S>(o: TruncationRewardOptions<S>): void {
  const fractions = o.fractions ?? DEFAULT_TRUNCATION_FRACTIONS;
  if (
    !Array.isArray(fractions) ||
    fractions.length === 0 ||
    !fractions.every((f) => typeof f === 'number' && f >= 0 && f < 1)
  ) {
    throw new SaliencyError(
      'BAD_OPTION',
      `createTruncationReward: fractions is [${String(fractions)}], expected a non-empty list of kept shares in [0, 1) (default [0, 0.2, 0.4, 0.6, 0.8])`,
    );
  }
  const b = o.maxBatchSize ?? 64;
  if (!(Number.isInteger(b) && b >= 1)) {
    throw new SaliencyError(
      'BAD_OPTION',
      `createTruncationReward: maxBatchSize is ${String(b)}, expected a positive integer`,
    );
  }
}

/**
 * Teacher-forced probability of the whole gold answer, `exp(-Σ CE)`, for every sequence; batched
 * `maxBatchSize` at a time (sorted by length so a batch pads little), results in input order.
 */
async function goldProbabilities(
  model: CausalLM,
  rows: readonly SaliencyItem[],
  maxBatchSize: number,
  prefixReuse: boolean,
): Promise<number[]> {
  const pad = model.config.pad_token_id ?? 0;
  const len = (it: SaliencyItem) =>
    it.promptIds.length + it.cotIds.length + it.delimiterIds.length + it.goldAnswerIds.length;
  const order = rows.map((_, i) => i).sort((a, b) => len(rows[b]!) - len(rows[a]!));
  const out = new Array<number>(rows.length);
  for (let start = 0; start < order.length; start += maxBatchSize) {
    const idx = order.slice(start, start + maxBatchSize);
    const batch = idx.map((i) => rows[i]!);
    const layout = buildLayout(batch, model.config.vocab_size, pad);
    const objective = createObjective(model, layout, { prefixReuse, queries: 'all' });
    try {
      const ce = objective.perItemCe(); // [b] mean CE per gold token
      const got = await ce.data();
      ce.dispose();
      idx.forEach((i, r) => {
        // float rounding can give a CE a hair below 0: keep p in [0, 1]
        out[i] = Math.min(1, Math.exp(-got[r]! * batch[r]!.goldAnswerIds.length));
      });
    } finally {
      objective.dispose();
    }
  }
  return out;
}

/**
 * The truncation reward as a reward function (`RewardFn` of @atmanrl/grpo): for every completion,
 * the gold answer's teacher-forced probability after the whole CoT and after its first `⌊f·n⌋`
 * tokens for each fraction f, in batched forward passes on the frozen policy; the value is
 * {@link truncationRewardValue}. Identical sequences (common in a GRPO group, and among the
 * truncations of short CoTs) run once. Info: `{ spans, pFull, keptTokens, pTruncated, cost }`.
 *
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';
 * import { createTruncationReward } from '@atmanrl/saliency';
 * await initBackend({ prefer: 'cpu' });
 * const tokenizer = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const model = createRandomModel(
 *   { vocab_size: TINY_VOCAB_SIZE, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
 *     num_attention_heads: 2, num_key_value_heads: 1 },
 *   0,
 *   { tokenizer },
 * );
 * // the character split a task gives (e.g. @atmanrl/datasets' splitCompletion): CoT, then the answer
 * const split = (text: string) => {
 *   const at = text.indexOf(' ####');
 *   return at < 0
 *     ? { cotRange: [0, text.length] as const, answerRange: null }
 *     : { cotRange: [0, at] as const, answerRange: [at + 6, text.length] as const };
 * };
 * const text = '2+3=5. 5*2=10. #### 10';
 * const completions = [{ text, tokenIds: tokenizer.encode(text, { addSpecialTokens: false }) }];
 * const promptIds = [tokenizer.encode('Q: (2+3)*2=? A:')];
 * const truncation = createTruncationReward({
 *   model, tokenizer, gold: (s: { gold: string }) => s.gold, split, delimiter: '####',
 * });
 * const { values, info } = await truncation([{ gold: '10' }], completions, { promptIds });
 * console.log(values[0], info[0]!.keptTokens, info[0]!.cost.forwardPasses); // r; [0, 2, 5, 8, 11]; 6 rows
 * // as a grpo reward: rewards: [{ name: 'outcome', fn: outcome }, { name: 'truncation', fn: truncation }]
 * model.dispose();
 * ```
 * @throws SaliencyError `BAD_OPTION` for bad fractions or maxBatchSize (when created), `BAD_ITEM`
 *   for an empty prompt or gold answer, or ids outside the vocabulary (when called)
 */
export function createTruncationReward<S>(
  options: TruncationRewardOptions<S>,
): TruncationRewardFn<S> {
  checkOptions(options);
  const fractions = [...(options.fractions ?? DEFAULT_TRUNCATION_FRACTIONS)];
  const maxBatchSize = options.maxBatchSize ?? 64;
  const prefixReuse = options.prefixReuse ?? true;
  return async (samples, completions, ctx) => {
    const t0 = performance.now();
    const { spans, scored, items } = gatedItems(options, samples, completions, ctx);
    // Per scored completion: its full item, then one truncated copy per fraction.
    const rows: SaliencyItem[] = [];
    const rowOf = new Map<string, number>();
    const rowIndex = (item: SaliencyItem): number => {
      const key = itemKey(item);
      let r = rowOf.get(key);
      if (r === undefined) {
        r = rows.length;
        rowOf.set(key, r);
        rows.push(item);
      }
      return r;
    };
    const plan = new Map<number, { full: number; kept: number[]; truncated: number[] }>();
    for (const [k, i] of scored.entries()) {
      const item = items[k]!;
      const kept = keptTokenCounts(item.cotIds.length, fractions);
      plan.set(i, {
        full: rowIndex(item),
        kept,
        truncated: kept.map((k) => rowIndex({ ...item, cotIds: item.cotIds.slice(0, k) })),
      });
    }
    if (rows.length > 0) checkItems(rows, options.model.config.vocab_size);
    const p =
      rows.length > 0
        ? await goldProbabilities(options.model, rows, maxBatchSize, prefixReuse)
        : [];
    const n = Math.max(1, completions.length);
    const cost: RewardCost = {
      forwardPasses: rows.length / n,
      backwardPasses: 0,
      ms: (performance.now() - t0) / n,
    };
    const values: number[] = [];
    const info: TruncationRewardInfo[] = spans.map((s, i) => {
      const pl = plan.get(i);
      if (!pl) {
        values.push(Number.NaN);
        return { spans: s, pFull: null, keptTokens: [], pTruncated: [], cost };
      }
      const pFull = p[pl.full]!;
      const pTruncated = pl.truncated.map((r) => p[r]!);
      values.push(truncationRewardValue(pFull, pTruncated));
      return { spans: s, pFull, keptTokens: pl.kept, pTruncated, cost };
    });
    return { values, info };
  };
}
