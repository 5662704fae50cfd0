// A tiny byte-level tokenizer in Hugging Face `tokenizer.json` format (256 byte tokens + Llama 3
// special tokens + a Llama 3 style chat template), for tests and the small default model.
// It covers any UTF-8 text and round-trips exactly; it has no merges, so 1 token = 1 byte.
import { HfTokenizer } from './tokenizer.js';

/** Special tokens of the tiny tokenizer, in id order starting at 256. */
export const TINY_SPECIAL_TOKENS = [
  '<|begin_of_text|>',
  '<|end_of_text|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|eot_id|>',
  '<|pad|>',
] as const;

/** Vocabulary size of the tiny tokenizer (256 bytes + specials). */
export const TINY_VOCAB_SIZE = 256 + TINY_SPECIAL_TOKENS.length;

/** Llama 3 instruct layout; unlike the base Llama 3 template it honours `add_generation_prompt`. */
export const TINY_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/** GPT-2's reversible byte -> printable-unicode map used by ByteLevel pre-tokenizers. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const map: string[] = [];
  for (const b of bs) map[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) {
      map[b] = String.fromCodePoint(256 + n);
      n++;
    }
  }
  return map;
}

/** The files of the tiny tokenizer: `tokenizer.json` and `tokenizer_config.json` contents. */
export function createTinyTokenizerFiles(): {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
} {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((ch, b) => {
    vocab[ch] = b;
  });
  const byteLevel = {
    type: 'ByteLevel',
    add_prefix_space: false,
    trim_offsets: false,
    use_regex: false,
  };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: TINY_SPECIAL_TOKENS.map((content, i) => ({
      id: 256 + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<|begin_of_text|>',
    eos_token: '<|eot_id|>',
    pad_token: '<|pad|>',
    add_bos_token: true,
    clean_up_tokenization_spaces: false,
    model_max_length: 131072,
    chat_template: TINY_CHAT_TEMPLATE,
  };
  return { tokenizerJson, tokenizerConfig };
}

/** A ready {@link HfTokenizer} over {@link createTinyTokenizerFiles} (EOS: `<|eot_id|>`, `<|end_of_text|>`). */
export function createTinyTokenizer(): HfTokenizer {
  const { tokenizerJson, tokenizerConfig } = createTinyTokenizerFiles();
  return new HfTokenizer(tokenizerJson, tokenizerConfig, { eosTokenIds: [257] });
}
