// The padded batch layout shared by the fit and the baselines (host arrays only, no tensors).
//
// Row b, with prefix reuse (P = longest prompt):
//   columns [0, P-1)         prompt[:-1], LEFT-padded  -> computed once into a KV cache
//   columns [P-1, P-1+S)     suffix = [prompt[-1], C, delimiter, A], RIGHT-padded to S
// The last prompt token is recomputed with the suffix so that the logits predicting A_0 exist
// even when C and the delimiter are empty. All prompts end at column P-1, so CoT key j of every
// row sits at column P + j and θ [B,Cmax] maps onto one contiguous block of the bias.
// Padding (left and right) has attentionMask 0: never attended. Right pads come after every real
// token, so causality alone keeps them out of real rows; their logits are never read.
import { SaliencyError } from '../errors.js';
import type { SaliencyItem } from '../types.js';

/** Host-side layout of a batch of items. */
export interface BatchLayout {
  /** B */
  batch: number;
  /** Longest prompt P. */
  promptLen: number;
  /** Cached prefix length P-1 (0 = no cache needed). */
  prefixLen: number;
  /** Suffix length S (max over rows of 1 + |C| + |delimiter| + |A|). */
  suffixLen: number;
  /** Longest CoT, Cmax (θ has shape [B, Cmax]). */
  cotMax: number;
  /** CoT length per row. */
  cotLens: number[];
  /** Answer length per row. */
  answerLens: number[];
  /** [B, P-1] prefix ids (pads = padId), row-major. */
  prefixIds: Int32Array;
  /** [B, S] suffix ids, row-major. */
  suffixIds: Int32Array;
  /** [B, P-1+S] 1 real / 0 pad. */
  attentionMask: Float32Array;
  /** [B, Cmax] 1 on real CoT slots. */
  cotMask: Float32Array;
  /** Suffix row index (within 0..S-1) of every loss row, rows of item 0 first. Length N. */
  lossRows: Int32Array;
  /** Item index of every loss row. */
  lossItem: Int32Array;
  /** Gold token id predicted at every loss row. */
  lossTargets: Int32Array;
}

function checkIds(name: string, ids: readonly number[], vocab: number, item: number): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new SaliencyError(
        'BAD_ITEM',
        `item ${item}: ${name} contains ${id}, expected token ids in [0, ${vocab})`,
      );
    }
  }
}

/**
 * Validates `items` before any work: a non-empty list, each item with a prompt, a gold answer and
 * token ids inside the vocabulary. Messages name an item by its index in `items`.
 * @throws SaliencyError `BAD_ITEM` for an empty list, an empty prompt, an empty gold answer or an
 *   id outside the vocabulary
 */
export function checkItems(items: readonly SaliencyItem[], vocabSize: number): void {
  if (items.length === 0)
    throw new SaliencyError('BAD_ITEM', 'no items given; expected at least one');
  items.forEach((it, i) => {
    if (it.promptIds.length === 0)
      throw new SaliencyError(
        'BAD_ITEM',
        `item ${i}: promptIds is empty; a prompt needs at least one token`,
      );
    if (it.goldAnswerIds.length === 0)
      throw new SaliencyError(
        'BAD_ITEM',
        `item ${i}: goldAnswerIds is empty; the loss needs at least one gold token`,
      );
    checkIds('promptIds', it.promptIds, vocabSize, i);
    checkIds('cotIds', it.cotIds, vocabSize, i);
    checkIds('delimiterIds', it.delimiterIds, vocabSize, i);
    checkIds('goldAnswerIds', it.goldAnswerIds, vocabSize, i);
  });
}

/**
 * Builds the layout of `items` (see the file comment), after {@link checkItems}.
 * @throws SaliencyError `BAD_ITEM` as {@link checkItems}
 */
export function buildLayout(
  items: readonly SaliencyItem[],
  vocabSize: number,
  padId: number,
): BatchLayout {
  checkItems(items, vocabSize);
  const b = items.length;
  const p = Math.max(...items.map((it) => it.promptIds.length));
  const prefixLen = p - 1;
  const suffixes = items.map((it) => [
    it.promptIds[it.promptIds.length - 1]!,
    ...it.cotIds,
    ...it.delimiterIds,
    ...it.goldAnswerIds,
  ]);
  const s = Math.max(...suffixes.map((x) => x.length));
  const cotLens = items.map((it) => it.cotIds.length);
  const answerLens = items.map((it) => it.goldAnswerIds.length);
  const cotMax = Math.max(...cotLens);
  const t = prefixLen + s;
  const prefixIds = new Int32Array(b * prefixLen).fill(padId);
  const suffixIds = new Int32Array(b * s).fill(padId);
  const attentionMask = new Float32Array(b * t);
  const cotMask = new Float32Array(b * cotMax);
  const lossRows: number[] = [];
  const lossItem: number[] = [];
  const lossTargets: number[] = [];
  items.forEach((it, r) => {
    const head = it.promptIds.slice(0, -1);
    const start = prefixLen - head.length; // left padding
    head.forEach((id, j) => {
      prefixIds[r * prefixLen + start + j] = id;
      attentionMask[r * t + start + j] = 1;
    });
    suffixes[r]!.forEach((id, j) => {
      suffixIds[r * s + j] = id;
      attentionMask[r * t + prefixLen + j] = 1;
    });
    for (let j = 0; j < it.cotIds.length; j++) cotMask[r * cotMax + j] = 1;
    // A_k sits at suffix index 1+|C|+|D|+k and is predicted by the row before it.
    const first = it.cotIds.length + it.delimiterIds.length;
    it.goldAnswerIds.forEach((id, k) => {
      lossRows.push(first + k);
      lossItem.push(r);
      lossTargets.push(id);
    });
  });
  return {
    batch: b,
    promptLen: p,
    prefixLen,
    suffixLen: s,
    cotMax,
    cotLens,
    answerLens,
    prefixIds,
    suffixIds,
    attentionMask,
    cotMask,
    lossRows: Int32Array.from(lossRows),
    lossItem: Int32Array.from(lossItem),
    lossTargets: Int32Array.from(lossTargets),
  };
}

/** Full-sequence ids [B, P-1+S] (prefix then suffix per row), for recomputation without a cache. */
export function fullIds(layout: BatchLayout): Int32Array {
  const { batch, prefixLen, suffixLen } = layout;
  const t = prefixLen + suffixLen;
  const out = new Int32Array(batch * t);
  for (let r = 0; r < batch; r++) {
    out.set(layout.prefixIds.subarray(r * prefixLen, (r + 1) * prefixLen), r * t);
    out.set(layout.suffixIds.subarray(r * suffixLen, (r + 1) * suffixLen), r * t + prefixLen);
  }
  return out;
}
