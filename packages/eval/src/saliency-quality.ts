// Saliency quality with the attention bias: remove (or keep only) the most salient CoT tokens by a
// -Infinity bias on their keys (positions stay fixed) and track p(gold answer). ERASER
// comprehensiveness / sufficiency and deletion / insertion curves, each with a random order.
import type { CausalLM } from '@atmanrl/model';
import type { EvalCurve } from '@atmanrl/runs';
import type { SaliencyItem } from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';
import { averagedCurve, type CurvePoints, uniformGrid } from './curves.js';
import {
  aopc,
  binCount,
  deleteTop,
  ERASER_BINS,
  gridCount,
  keepTop,
  rankByRelevance,
} from './erasure.js';
import { EvaluationError } from './errors.js';
import { combineSeed, seededPermutation } from './random.js';

/**
 * p(gold answer) of one item with the given CoT positions removed (one row per removal set):
 * the product of the gold-answer token probabilities under teacher forcing of
 * `prompt + CoT + delimiter + gold`, with attention bias -Infinity on the removed CoT keys
 * (every layer, head and query row).
 *
 * @param removed one list of CoT positions (0-based within the CoT) per row
 * @returns one probability per row
 */
export async function goldProbabilities(
  model: CausalLM,
  item: SaliencyItem,
  removed: readonly (readonly number[])[],
  options: { batchSize?: number } = {},
): Promise<number[]> {
  const p = item.promptIds.length;
  const c = item.cotIds.length;
  const g = item.goldAnswerIds.length;
  if (p === 0 || g === 0) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      'goldProbabilities: an item needs >= 1 prompt and >= 1 gold answer token',
    );
  }
  const ids = [...item.promptIds, ...item.cotIds, ...item.delimiterIds, ...item.goldAnswerIds];
  const t = ids.length;
  const goldStart = t - g; // first gold position; predicted by logits at goldStart - 1
  const batchSize = options.batchSize ?? 16;
  const out: number[] = [];
  for (let s = 0; s < removed.length; s += batchSize) {
    const chunk = removed.slice(s, s + batchSize);
    const r = chunk.length;
    const bias = new Float32Array(r * t);
    chunk.forEach((set, row) => {
      for (const j of set) {
        if (!(Number.isInteger(j) && j >= 0 && j < c)) {
          throw new EvaluationError(
            'BAD_ARGUMENT',
            `goldProbabilities: CoT position ${j} is outside [0, ${c})`,
          );
        }
        bias[row * t + p + j] = Number.NEGATIVE_INFINITY;
      }
    });
    const logP = tf.tidy(() => {
      const input = tf.tile(tf.tensor2d(ids, [1, t], 'int32'), [r, 1]) as tf.Tensor2D; // [R,T]
      const logits = model.forward(input, { attentionBias: tf.tensor2d(bias, [r, t]) }); // [R,T,V]
      const v = logits.shape[2];
      const pred = tf.logSoftmax(tf.slice(logits, [0, goldStart - 1, 0], [r, g, v])); // [R,G,V]
      // cast: oneHot is int32 (and wasm's kernel ignores a dtype argument)
      const target = tf.cast(
        tf.oneHot(tf.tensor1d(item.goldAnswerIds as number[], 'int32'), v),
        'float32',
      ); // [G,V]
      return tf.sum(tf.mul(pred, target), [1, 2]); // [R]
    });
    const values = await logP.data();
    logP.dispose();
    for (const x of values) out.push(Math.exp(x));
  }
  return out;
}

/** Per-item result of {@link saliencyQuality}. */
export interface SaliencyQualityItem {
  cotTokens: number;
  /** p(gold) with the whole CoT visible. */
  pFull: number;
  comprehensiveness: number;
  sufficiency: number;
  comprehensivenessRandom: number;
  sufficiencyRandom: number;
  /** p(gold) after deleting the top fraction x (saliency order, then random order). */
  deletion: CurvePoints;
  deletionRandom: CurvePoints;
  /** p(gold) with only the top fraction x visible. */
  insertion: CurvePoints;
  insertionRandom: CurvePoints;
}

/** Result of {@link saliencyQuality}; scalars are means over items with a non-empty CoT. */
export interface SaliencyQualityResult {
  items: SaliencyQualityItem[];
  /** ERASER AOPC of removing the top-k% tokens (higher = saliency finds what the answer needs). */
  comprehensiveness: number;
  comprehensivenessRandom: number;
  /** ERASER AOPC of keeping only the top-k% tokens (lower = those tokens suffice). */
  sufficiency: number;
  sufficiencyRandom: number;
  /** AUC of p(gold) vs fraction deleted (lower = better saliency). */
  deletionAuc: number;
  deletionAucRandom: number;
  /** AUC of p(gold) vs fraction inserted (higher = better saliency). */
  insertionAuc: number;
  insertionAucRandom: number;
  curves: EvalCurve[];
}

/** Options of {@link saliencyQuality}. */
export interface SaliencyQualityOptions {
  /** ERASER bins as fractions (default 1/5/10/20/50 %). */
  bins?: readonly number[];
  /** Grid intervals of the deletion / insertion curves (default 10). */
  gridSize?: number;
  /** Seed of the random orders (default 0). */
  seed?: number;
  /** Removal sets per forward pass (default 16). */
  batchSize?: number;
  /** Called after each item. */
  onItem?: (done: number, total: number) => void;
}

/**
 * Measures how well per-token relevance scores (`relevances[i][j]` for CoT token j of item i;
 * larger = more needed) identify the tokens the gold answer depends on, by removing CoT keys with
 * a -Infinity attention bias: ERASER comprehensiveness and sufficiency (AOPC over `bins`), and
 * deletion / insertion curves of p(gold) with their AUC. Every measure is repeated with a seeded
 * random order of the same tokens as its baseline. Items with an empty CoT are skipped.
 */
export async function saliencyQuality(
  model: CausalLM,
  items: readonly SaliencyItem[],
  relevances: readonly (readonly number[])[],
  options: SaliencyQualityOptions = {},
): Promise<SaliencyQualityResult> {
  if (relevances.length !== items.length) {
    throw new EvaluationError(
      'BAD_ARGUMENT',
      `saliencyQuality: ${items.length} items but ${relevances.length} relevance lists`,
    );
  }
  const bins = options.bins ?? ERASER_BINS;
  const grid = uniformGrid(options.gridSize ?? 10);
  const seed = options.seed ?? 0;
  const results: SaliencyQualityItem[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as SaliencyItem;
    const rel = relevances[i] as readonly number[];
    const n = item.cotIds.length;
    if (rel.length !== n) {
      throw new EvaluationError(
        'BAD_ARGUMENT',
        `saliencyQuality: item ${i} has ${n} CoT tokens but ${rel.length} relevance values`,
      );
    }
    if (n === 0) continue;
    const orders = {
      sal: rankByRelevance(rel),
      rnd: seededPermutation(n, combineSeed(seed, i, 2)),
    };
    // Every removal set this item needs, deduplicated, evaluated in as few forward passes as possible.
    const sets: number[][] = [[]];
    const keyOf = new Map<string, number>([['', 0]]);
    const indexOf = (set: number[]): number => {
      const key = [...set].sort((a, b) => a - b).join(',');
      let at = keyOf.get(key);
      if (at === undefined) {
        at = sets.length;
        sets.push(set);
        keyOf.set(key, at);
      }
      return at;
    };
    const plan = (order: number[]) => ({
      comp: bins.map((b) => indexOf(deleteTop(order, binCount(b, n)))),
      suff: bins.map((b) => indexOf(keepTop(order, binCount(b, n)))),
      del: grid.map((f) => indexOf(deleteTop(order, gridCount(f, n)))),
      ins: grid.map((f) => indexOf(keepTop(order, gridCount(f, n)))),
    });
    const sal = plan(orders.sal);
    const rnd = plan(orders.rnd);
    const probs = await goldProbabilities(model, item, sets, { batchSize: options.batchSize });
    const pFull = probs[0] as number;
    const at = (ix: number[]): number[] => ix.map((k) => probs[k] as number);
    results.push({
      cotTokens: n,
      pFull,
      comprehensiveness: aopc(pFull, at(sal.comp)),
      sufficiency: aopc(pFull, at(sal.suff)),
      comprehensivenessRandom: aopc(pFull, at(rnd.comp)),
      sufficiencyRandom: aopc(pFull, at(rnd.suff)),
      deletion: { x: [...grid], y: at(sal.del) },
      deletionRandom: { x: [...grid], y: at(rnd.del) },
      insertion: { x: [...grid], y: at(sal.ins) },
      insertionRandom: { x: [...grid], y: at(rnd.ins) },
    });
    options.onItem?.(i + 1, items.length);
  }
  const m = (f: (r: SaliencyQualityItem) => number): number =>
    results.length === 0 ? Number.NaN : results.reduce((s, r) => s + f(r), 0) / results.length;
  const deletion = averagedCurve({
    name: 'deletion',
    xLabel: 'fraction of CoT tokens deleted (most salient first)',
    yLabel: 'p(gold answer)',
    items: results.map((r) => ({ curve: r.deletion, baseline: r.deletionRandom })),
    grid,
    area: 'AUC',
  });
  const insertion = averagedCurve({
    name: 'insertion',
    xLabel: 'fraction of CoT tokens inserted (most salient first)',
    yLabel: 'p(gold answer)',
    items: results.map((r) => ({ curve: r.insertion, baseline: r.insertionRandom })),
    grid,
    area: 'AUC',
  });
  return {
    items: results,
    comprehensiveness: m((r) => r.comprehensiveness),
    comprehensivenessRandom: m((r) => r.comprehensivenessRandom),
    sufficiency: m((r) => r.sufficiency),
    sufficiencyRandom: m((r) => r.sufficiencyRandom),
    deletionAuc: deletion.area?.value ?? Number.NaN,
    deletionAucRandom: deletion.area?.baseline ?? Number.NaN,
    insertionAuc: insertion.area?.value ?? Number.NaN,
    insertionAucRandom: insertion.area?.baseline ?? Number.NaN,
    curves: [deletion, insertion],
  };
}
