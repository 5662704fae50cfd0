// The step every completion-scoring reward of this package shares (saliency, AtMan, truncation):
// split each completion once on its generated ids, keep the completions the gate admits, build
// their teacher-forced items (prompt + CoT + delimiter + gold answer, method.md §2.1), and find
// identical items (GRPO groups repeat short completions often) so each is scored once. Leaves out
// the scoring itself.
import {
  type CompletionSpans,
  type SplitTokenizer,
  saliencyItemFromSpans,
  splitCompletionIds,
  type TextSplit,
} from '../completion-split.js';
import type { RewardCallContext, RewardCompletion, SaliencyItem } from '../types.js';

/** What the three rewards share of their options. */
export interface GatedItemOptions<S> {
  tokenizer: SplitTokenizer;
  gold: (sample: S) => string;
  split: (text: string) => TextSplit;
  delimiter: string;
  gate?: (index: number, rewards: Readonly<Record<string, readonly number[]>>) => boolean;
}

/** The splits of all completions, the distinct items of the admitted ones, and who has which. */
export interface GatedItems {
  /** Token split of every completion, in order. */
  spans: CompletionSpans[];
  /** Indices of the completions the gate admits, in order. */
  scored: number[];
  /** The admitted completions' items (`items[k]` is completion `scored[k]`'s). */
  items: SaliencyItem[];
  /**
   * The distinct items, shortest CoT first, then shortest item, ties in first-seen order: the
   * batches a caller cuts from it in order (a worker pool's jobs) pad little. A group's CoTs
   * differ a lot in length (terse vs verbose), so cut in group order a batch pads to its longest.
   */
  unique: SaliencyItem[];
  /** Completion index -> its item's index in `unique` (admitted completions only). */
  slotOf: Map<number, number>;
}

/** One string per distinct item (ids only; scoring reads nothing else). */
export function itemKey(item: SaliencyItem): string {
  return [item.promptIds, item.cotIds, item.delimiterIds, item.goldAnswerIds]
    .map((ids) => ids.join(','))
    .join('|');
}

/** Splits, gates and builds the teacher-forced items of one reward call (see the file comment). */
export function gatedItems<S>(
  options: GatedItemOptions<S>,
  samples: readonly S[],
  completions: readonly RewardCompletion[],
  ctx: RewardCallContext,
): GatedItems {
  const spans = completions.map((comp) => {
    const text = options.tokenizer.decode([...comp.tokenIds], { skipSpecialTokens: true });
    return splitCompletionIds(options.tokenizer, comp.tokenIds, options.split(text));
  });
  const rewards = ctx.rewards ?? {};
  const scored = completions
    .map((_, i) => i)
    .filter((i) => (options.gate ? options.gate(i, rewards) : true));
  const items = scored.map((i) =>
    saliencyItemFromSpans(
      options.tokenizer,
      ctx.promptIds[i]!,
      spans[i]!,
      options.gold(samples[i]!),
      options.delimiter,
    ),
  );
  const keys = items.map(itemKey);
  const firstSeen = new Map<string, SaliencyItem>();
  items.forEach((item, k) => {
    if (!firstSeen.has(keys[k]!)) firstSeen.set(keys[k]!, item);
  });
  const length = (it: SaliencyItem) =>
    it.promptIds.length + it.cotIds.length + it.delimiterIds.length + it.goldAnswerIds.length;
  // Array sort is stable: ties keep first-seen order.
  const unique = [...firstSeen].sort(
    ([, x], [, y]) => x.cotIds.length - y.cotIds.length || length(x) - length(y),
  );
  const slotByKey = new Map(unique.map(([key], slot) => [key, slot]));
  const slotOf = new Map(scored.map((i, k) => [i, slotByKey.get(keys[k]!)!]));
  return { spans, scored, items, unique: unique.map(([, item]) => item), slotOf };
}
