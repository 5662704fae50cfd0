// One-token-at-a-time perturbation baselines: AtMan (multiplicative suppression, f = 0.9) and
// occlusion (-Infinity bias). relevance_j = increase of the gold-answer CE when CoT key j is
// perturbed. Leaves out AtMan's conceptual (embedding-similarity) suppression.
import type { CausalLM } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { checkNumber } from './_internal/checks.js';
import { buildLayout, checkItems } from './_internal/layout.js';
import { createObjective } from './_internal/objective.js';
import type { SaliencyItem, SaliencyMap } from './types.js';

/** Options of {@link atmanSaliency} and {@link occlusionSaliency}. */
export interface SweepOptions {
  /**
   * Perturbed copies of an item evaluated per forward pass (default 16). Bounds memory: activations
   * scale with chunkSize × sequence length.
   */
  chunkSize?: number;
  /** AtMan suppression strength f: suppressed scores are scaled by 1 - f (default 0.9; AtMan only). */
  strength?: number;
  /** Serve prompt[:-1] from a KV cache computed once per item (default true; exact). */
  prefixReuse?: boolean;
}

/**
 * AtMan (Deiseroth et al. 2023) relevance of every CoT token for the gold answer: for each CoT key
 * j, the pre-softmax scores of column j are multiplied by `1 - f` (after AtMan's row shift, see
 * @atmanrl/attention-mask) in every layer, head and query row, and
 * `relevance_j = CE(gold | j suppressed) - CE(gold)` (nats/token; positive = the answer needs j).
 *
 * Each item is swept on its own (copies of one item need no padding, and AtMan's row shift would
 * otherwise see padding keys); positions are batched `chunkSize` at a time, the unperturbed
 * baseline riding in the first chunk, and the prompt prefix is computed once per item.
 *
 * @param model frozen causal LM
 * @param items prompt / CoT / delimiter / gold answer ids
 * @param options chunkSize, strength, prefixReuse
 * @returns one {@link SaliencyMap} (method 'atman') per item
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';
 * import { atmanSaliency } from '@atmanrl/saliency';
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
 * // one forward per CoT token, that token suppressed: relevance = rise of the gold answer's CE
 * const [map] = await atmanSaliency(model, [item]);
 * console.log(map!.relevance.length === item.cotIds.length, map!.ceNoBias); // true, the unsuppressed CE
 * model.dispose();
 * ```
 */
export async function atmanSaliency(
  model: CausalLM,
  items: readonly SaliencyItem[],
  options: SweepOptions = {},
): Promise<SaliencyMap[]> {
  const strength = options.strength ?? 0.9;
  checkNumber('atmanSaliency', 'strength', strength, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  return sweep(model, items, 'atman', strength, options);
}

/**
 * Occlusion relevance: like {@link atmanSaliency} but CoT key j is removed outright by a
 * `-Infinity` attention bias (every layer, head and query row).
 * `relevance_j = CE(gold | j removed) - CE(gold)` (nats/token).
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';
 * import { occlusionSaliency } from '@atmanrl/saliency';
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
 * // one forward per CoT token, that token's key removed (bias −∞)
 * const [map] = await occlusionSaliency(model, [item]);
 * console.log(map!.method, map!.relevance.length === item.cotIds.length); // 'occlusion' true
 * model.dispose();
 * ```
 */
export async function occlusionSaliency(
  model: CausalLM,
  items: readonly SaliencyItem[],
  options: SweepOptions = {},
): Promise<SaliencyMap[]> {
  return sweep(model, items, 'occlusion', 0, options);
}

async function sweep(
  model: CausalLM,
  items: readonly SaliencyItem[],
  kind: 'atman' | 'occlusion',
  strength: number,
  options: SweepOptions,
): Promise<SaliencyMap[]> {
  const name = kind === 'atman' ? 'atmanSaliency' : 'occlusionSaliency';
  const chunkSize = options.chunkSize ?? 16;
  checkNumber(
    name,
    'chunkSize',
    chunkSize,
    (x) => Number.isInteger(x) && x >= 1,
    'a positive integer',
  );
  const pad = model.config.pad_token_id ?? 0;
  checkItems(items, model.config.vocab_size); // every item before any work
  const results: SaliencyMap[] = [];
  for (const item of items) {
    const n = item.cotIds.length;
    const tasks = [-1, ...Array.from({ length: n }, (_, j) => j)]; // -1 = unperturbed baseline
    const k = Math.min(chunkSize, tasks.length);
    const layout = buildLayout(new Array<SaliencyItem>(k).fill(item), model.config.vocab_size, pad);
    const objective = createObjective(model, layout, {
      prefixReuse: options.prefixReuse ?? true,
      queries: 'all',
    });
    const t = objective.keyLen;
    const cotStart = layout.prefixLen + 1; // key column of CoT token 0
    const ce = new Array<number>(tasks.length).fill(0);
    try {
      for (let start = 0; start < tasks.length; start += k) {
        const values = new Float32Array(k * t).fill(kind === 'atman' ? 1 : 0);
        for (let r = 0; r < k; r++) {
          const j = tasks[start + r] ?? -1; // the last chunk is filled with baseline rows
          if (j >= 0)
            values[r * t + cotStart + j] =
              kind === 'atman' ? 1 - strength : Number.NEGATIVE_INFINITY;
        }
        const out = tf.tidy(() => {
          const perturb = tf.tensor2d(values, [k, t]);
          return objective.perItemCe(kind === 'atman' ? { suppress: perturb } : { bias: perturb });
        });
        const got = await out.data();
        out.dispose();
        for (let r = 0; r < k && start + r < tasks.length; r++) ce[start + r] = got[r]!;
      }
    } finally {
      objective.dispose();
    }
    const base = ce[0]!;
    results.push({
      method: kind,
      cotIds: [...item.cotIds],
      relevance: ce.slice(1).map((x) => x - base),
      ceNoBias: base,
    });
  }
  return results;
}
