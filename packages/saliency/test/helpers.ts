// Shared test helpers: backend set-up, a tiny random model and random items.
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRandomModel, type LlamaConfigInput, type LlamaModel } from '@atmanrl/model';
// Registers every tfjs gradient (CommonJS umbrella bundle), independent of attention-mask's dist.
import '@tensorflow/tfjs';
import type { SaliencyItem } from '../src/types.js';

/** wasm (the CPU production backend; fast enough for 200-step fits) unless ATMANRL_BACKEND says otherwise. */
export async function setUpBackend(): Promise<void> {
  await initBackend({
    prefer: (process.env['ATMANRL_BACKEND'] as 'cpu' | 'wasm' | undefined) ?? 'wasm',
  });
}

/** 2 layers, GQA (4 heads, 2 kv heads), 40-token vocabulary, pad id 39. */
export const TINY: LlamaConfigInput = {
  vocab_size: 40,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
  pad_token_id: 39,
  initializer_range: 0.3,
};

export function tinyModel(seed = 1): LlamaModel {
  return createRandomModel(TINY, seed);
}

/** Deterministic LCG in [0,1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random items of the given lengths [prompt, cot, delimiter, answer] with ids in [0, 39). */
export function randomItems(
  lengths: [number, number, number, number][],
  seed: number,
): SaliencyItem[] {
  const r = lcg(seed);
  const ids = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 39));
  return lengths.map(([p, c, d, a]) => ({
    promptIds: ids(p),
    cotIds: ids(c),
    delimiterIds: ids(d),
    goldAnswerIds: ids(a),
  }));
}
