// reduceLlamaConfig against hand-computed reductions of a small GQA config: widths follow the
// heads, special ids keep their distance from the top of the vocabulary, and bad reductions name
// themselves. (The real Llama-3.2-1B config.json is tested in apps/trainer/test/llama-1b-step.test.ts.)
import { describe, expect, it } from 'vitest';
import { parseLlamaConfig } from './config.js';
import { ModelError } from './errors.js';
import { reduceLlamaConfig } from './reduced-config.js';

/** 8 heads over 2 kv heads (ratio 4), head_dim 16, MLP 3× wide, V = 1000 with ids at the top. */
const FULL = {
  hidden_size: 128,
  intermediate_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  vocab_size: 1000,
  bos_token_id: 997,
  eos_token_id: [998, 3],
  pad_token_id: null,
  rope_theta: 500000,
  tie_word_embeddings: true,
  custom_key: 'kept',
};

describe('reduceLlamaConfig', () => {
  it('with no reduction returns the config, head_dim made explicit', () => {
    expect(reduceLlamaConfig(FULL)).toEqual({ ...FULL, head_dim: 16 });
  });

  it('shrinks layers, heads (at the GQA ratio), width, MLP and vocabulary', () => {
    const r = reduceLlamaConfig(FULL, { numLayers: 2, numKeyValueHeads: 1, vocabSize: 600 });
    // heads 1·(8/2) = 4, hidden 4·16 = 64, MLP 64·384/128 = 192; ids ≥ 600 move down by 400
    expect(r).toEqual({
      ...FULL,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      hidden_size: 64,
      intermediate_size: 192,
      head_dim: 16,
      vocab_size: 600,
      bos_token_id: 597,
      eos_token_id: [598, 3],
      pad_token_id: null,
    });
    expect(parseLlamaConfig(r).num_key_value_heads).toBe(1);
    expect(FULL.num_hidden_layers).toBe(6); // the input is not modified
  });

  it('refuses a reduction that grows, is not a positive integer, or loses a special id', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ModelError);
        return [(e as ModelError).code, (e as Error).message];
      }
      throw new Error('expected a throw');
    };
    expect(code(() => reduceLlamaConfig(FULL, { numLayers: 7 }, 'my/config.json'))).toEqual([
      'BAD_CONFIG',
      'reduceLlamaConfig: numLayers 7 exceeds the my/config.json value 6; a reduction can only shrink',
    ]);
    expect(code(() => reduceLlamaConfig(FULL, { numKeyValueHeads: 1.5 }))[1]).toMatch(
      /numKeyValueHeads is 1.5; expected a positive integer/,
    );
    expect(code(() => reduceLlamaConfig(FULL, { vocabSize: 2 }))[1]).toMatch(
      /bos_token_id 997 has no place in a vocabulary of 2/,
    );
    expect(code(() => reduceLlamaConfig({ ...FULL, num_key_value_heads: 3 }))[1]).toMatch(
      /num_attention_heads 8 is not a multiple of num_key_value_heads 3/,
    );
  });
});
