// A tiny random Llama for GRPO tests: 8-token vocabulary, 1 layer, width 16. Token 7 is EOS.
import { createRandomModel, type LlamaModel } from '@atmanrl/model';

/** Token the test rewards favour. */
export const TARGET = 3;
/** End-of-sequence id of the tiny model. */
export const EOS = 7;

/** A fresh tiny model; the same seed gives the same weights. */
export function tinyModel(seed = 1): LlamaModel {
  return createRandomModel(
    {
      vocab_size: 8,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      tie_word_embeddings: false,
      eos_token_id: EOS,
      pad_token_id: 0,
      max_position_embeddings: 64,
    },
    seed,
  );
}
