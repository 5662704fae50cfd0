// Gradient × input baseline: relevance_j = (∂ log p(gold) / ∂ e_j) · e_j on the input embedding of
// CoT token j. One forward + backward for the whole batch. Leaves out integrated gradients.
import type { CausalLM } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { requireGradients } from './_internal/checks.js';
import { buildLayout } from './_internal/layout.js';
import { createObjective } from './_internal/objective.js';
import type { SaliencyItem, SaliencyMap } from './types.js';

/**
 * Gradient × input relevance of every CoT token: with e_j `[D]` the input embedding of CoT token
 * j and L the item's mean gold-answer log-probability, `relevance_j = Σ_d (∂L/∂e_j)_d · (e_j)_d`
 * (positive = the token pushes towards the gold answer). Items are batched (left-padded prompts,
 * right-padded suffixes, padding masked); the embeddings go through `forward`'s `inputEmbeds`.
 *
 * @param model frozen causal LM
 * @param items prompt / CoT / delimiter / gold answer ids
 * @returns one {@link SaliencyMap} (method 'gradient-x-input') per item
 * @throws SaliencyError `BAD_ITEM`, `NO_GRADIENTS`
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';
 * import { gradientXInputSaliency } from '@atmanrl/saliency';
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
 * const [map] = await gradientXInputSaliency(model, [item]);
 * console.log(map!.method, map!.relevance.length === item.cotIds.length); // 'gradient-x-input' true
 * model.dispose();
 * ```
 */
export async function gradientXInputSaliency(
  model: CausalLM,
  items: readonly SaliencyItem[],
): Promise<SaliencyMap[]> {
  requireGradients('gradientXInputSaliency');
  const layout = buildLayout(items, model.config.vocab_size, model.config.pad_token_id ?? 0);
  const objective = createObjective(model, layout, { prefixReuse: false, queries: 'all' });
  const b = layout.batch;
  const t = objective.keyLen;
  try {
    const [scores, ce] = tf.tidy(() => {
      const embeds = model.embed(objective.fullInputIds()); // [B,T,D]
      const { value, grad } = tf.valueAndGrad((e: tf.Tensor) =>
        objective.perItemCeFromEmbeds(e as tf.Tensor3D),
      )(embeds, tf.ones([b])); // value [B], grad [B,T,D]
      return [tf.neg(tf.sum(tf.mul(grad, embeds), -1)), value]; // [B,T]: d(log p)/de · e
    });
    const [s, c] = await Promise.all([scores.data(), ce.data()]);
    scores.dispose();
    ce.dispose();
    const cotStart = layout.prefixLen + 1;
    return items.map((item, i) => ({
      method: 'gradient-x-input' as const,
      cotIds: [...item.cotIds],
      relevance: Array.from(s.subarray(i * t + cotStart, i * t + cotStart + item.cotIds.length)),
      ceNoBias: c[i]!,
    }));
  } finally {
    objective.dispose();
  }
}
