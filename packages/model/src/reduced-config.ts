// A smaller Llama with a real model's layout, derived from its Hugging Face config.json: same
// head_dim, GQA ratio, MLP ratio, tied embeddings, RoPE base and llama3 scaling, fewer layers /
// heads / vocabulary. The full-size config is the same function with no reduction, so a CI test at
// the reduced size and the GPU check at full size run one code path. Leaves out weights.
import { ModelError } from './errors.js';

/** What to shrink; every field defaults to the config's own value (no reduction). */
export interface LlamaReduction {
  /** Decoder layers L. */
  numLayers?: number;
  /** Key/value heads; attention heads follow at the config's ratio (32/8 = 4 for Llama-3.2-1B). */
  numKeyValueHeads?: number;
  /** Vocabulary size V; special token ids keep their distance from the top of the vocabulary. */
  vocabSize?: number;
}

/** A Hugging Face Llama config.json object (the keys {@link reduceLlamaConfig} reads, plus any others). */
export type HfLlamaConfig = Record<string, unknown>;

function positiveInt(name: string, v: unknown, source: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ModelError(
      'BAD_CONFIG',
      `${source}: ${name} is ${JSON.stringify(v)}; expected a positive integer`,
    );
  }
  return v;
}

/**
 * The config of `full` reduced by `r`, as a new config.json object (other keys copied as is): a
 * model small enough for CI with a real model's layout (parse it with `parseLlamaConfig`).
 * Width follows the heads: `num_attention_heads = kv · (H / Hkv)`, `hidden_size = H · head_dim`,
 * `intermediate_size = hidden_size · (intermediate / hidden)` (rounded); special ids (`bos`,
 * `eos`, `pad`) at or above the new vocabulary move down by the vocabulary's reduction.
 * @param full the model's config.json object
 * @param r what to shrink (nothing: the config as is, with `head_dim` made explicit)
 * @param source names the config in messages (e.g. its file)
 * @throws ModelError `BAD_CONFIG` for a reduction that is not a positive integer, exceeds the
 *   config, or leaves a special id outside the vocabulary
 * @example
 * ```ts
 * import { initBackend } from '@atmanrl/attention-mask/node';
 * import { createRandomModel, parseLlamaConfig, reduceLlamaConfig } from '@atmanrl/model';
 * await initBackend({ prefer: 'cpu' });
 * // Llama-3.2-1B's layout at 2 layers, 1 kv head (so 4 heads, width 256) and a 512-token vocabulary
 * const full = { hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
 *   num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256,
 *   bos_token_id: 128000, eos_token_id: 128001, tie_word_embeddings: true };
 * const small = reduceLlamaConfig(full, { numLayers: 2, numKeyValueHeads: 1, vocabSize: 512 });
 * const model = createRandomModel(parseLlamaConfig(small, 'reduced config'), 0);
 * model.dispose();
 * ```
 */
export function reduceLlamaConfig(
  full: HfLlamaConfig,
  r: LlamaReduction = {},
  source = 'config.json',
): HfLlamaConfig {
  const heads = positiveInt('num_attention_heads', full['num_attention_heads'], source);
  const kvHeads = positiveInt('num_key_value_heads', full['num_key_value_heads'] ?? heads, source);
  const hidden = positiveInt('hidden_size', full['hidden_size'], source);
  const inter = positiveInt('intermediate_size', full['intermediate_size'], source);
  const layers = positiveInt('num_hidden_layers', full['num_hidden_layers'], source);
  const vocab = positiveInt('vocab_size', full['vocab_size'], source);
  const headDim = positiveInt('head_dim', full['head_dim'] ?? hidden / heads, source);
  if (heads % kvHeads !== 0) {
    throw new ModelError(
      'BAD_CONFIG',
      `${source}: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`,
    );
  }
  const want = (name: string, v: number | undefined, max: number): number => {
    if (v === undefined) return max;
    const n = positiveInt(name, v, 'reduceLlamaConfig');
    if (n > max)
      throw new ModelError(
        'BAD_CONFIG',
        `reduceLlamaConfig: ${name} ${n} exceeds the ${source} value ${max}; a reduction can only shrink`,
      );
    return n;
  };
  const newLayers = want('numLayers', r.numLayers, layers);
  const newKv = want('numKeyValueHeads', r.numKeyValueHeads, kvHeads);
  const newVocab = want('vocabSize', r.vocabSize, vocab);
  const newHeads = newKv * (heads / kvHeads);
  const newHidden = newHeads * headDim;
  // the full config keeps its own numbers (bit-identical when nothing is reduced)
  const newInter = newHidden === hidden ? inter : Math.round((newHidden * inter) / hidden);
  const shift = vocab - newVocab;
  const remap = (name: string, id: unknown): unknown => {
    if (typeof id !== 'number') return id;
    const out = id >= newVocab ? id - shift : id;
    if (out < 0 || out >= newVocab) {
      throw new ModelError(
        'BAD_CONFIG',
        `reduceLlamaConfig: ${name} ${id} has no place in a vocabulary of ${newVocab}; use a larger vocabSize`,
      );
    }
    return out;
  };
  const ids = (name: string, v: unknown): unknown =>
    Array.isArray(v) ? v.map((x) => remap(name, x)) : remap(name, v);
  const out: HfLlamaConfig = {
    ...full,
    num_hidden_layers: newLayers,
    num_attention_heads: newHeads,
    num_key_value_heads: newKv,
    hidden_size: newHidden,
    intermediate_size: newInter,
    head_dim: headDim,
    vocab_size: newVocab,
  };
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id']) {
    if (full[key] !== undefined && full[key] !== null) out[key] = ids(key, full[key]);
  }
  return out;
}
