// Tokenizer: Hugging Face `tokenizer.json` + `tokenizer_config.json` through @huggingface/tokenizers,
// chat templates through @huggingface/jinja, BOS handling as in the Python library, and character
// offsets recovered by incremental decoding (the JS library does not return offsets).
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { ModelError } from './errors.js';

/** A chat message. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** The tokenizer contract used by models, datasets, saliency and GRPO. */
export interface Tokenizer {
  /** Text -> ids. `addSpecialTokens` (default true) adds BOS where Hugging Face would. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Ids -> text. `skipSpecialTokens` default false. */
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Ids plus the character span [start, end) of each token in `text` (no special tokens added). */
  encodeWithOffsets(text: string): { ids: number[]; offsets: [number, number][] };
  /** Render `chat_template` (Hugging Face `apply_chat_template(..., tokenize=False)`). */
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  readonly bosTokenId?: number;
  readonly eosTokenIds: number[];
  readonly padTokenId?: number;
  /** Vocabulary size including added tokens. */
  readonly vocabSize: number;
}

/** Options of {@link HfTokenizer}. */
export interface HfTokenizerOptions {
  /** Extra end-of-sequence ids (e.g. `eos_token_id` list from config.json / generation_config.json). */
  eosTokenIds?: number[];
  /** Override whether `encode` prepends BOS; default: `add_bos_token` from tokenizer_config, else
   *  true for Llama-family BOS tokens (`<|begin_of_text|>`, `<s>`) when the post-processor lacks it. */
  addBosToken?: boolean;
  /** Extra variables for the chat template (e.g. `date_string`). */
  templateVars?: Record<string, unknown>;
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

/** {@link Tokenizer} over Hugging Face tokenizer files. */
export class HfTokenizer implements Tokenizer {
  readonly bosTokenId?: number;
  readonly eosTokenIds: number[];
  readonly padTokenId?: number;
  readonly vocabSize: number;
  /** The source files, kept so a checkpoint can write them back unchanged. */
  readonly files: { tokenizerJson: unknown; tokenizerConfig: Record<string, unknown> };
  private readonly hf: HfTokenizerImpl;
  private readonly prependBos: boolean;
  private readonly template?: Template;
  private readonly specialTokens: Record<string, string | undefined>;
  private readonly templateVars: Record<string, unknown>;

  /**
   * @param tokenizerJson parsed `tokenizer.json`
   * @param tokenizerConfig parsed `tokenizer_config.json`
   * @throws ModelError `BAD_TOKENIZER` when the files cannot be loaded
   */
  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: Record<string, unknown>,
    options: HfTokenizerOptions = {},
  ) {
    this.files = { tokenizerJson, tokenizerConfig };
    try {
      this.hf = new HfTokenizerImpl(tokenizerJson as object, tokenizerConfig);
    } catch (cause) {
      throw new ModelError(
        'BAD_TOKENIZER',
        `tokenizer.json could not be loaded: ${String(cause)}`,
        { cause },
      );
    }
    this.vocabSize = this.hf.get_vocab(true).size;
    const id = (key: string): number | undefined => {
      const content = tokenContent(tokenizerConfig[key]);
      if (content === undefined) return undefined;
      const tid = this.hf.token_to_id(content);
      if (tid === undefined) {
        throw new ModelError(
          'BAD_TOKENIZER',
          `tokenizer_config.json: ${key} "${content}" is not in the vocabulary of tokenizer.json`,
        );
      }
      return tid;
    };
    const bos = id('bos_token');
    if (bos !== undefined) this.bosTokenId = bos;
    const pad = id('pad_token');
    if (pad !== undefined) this.padTokenId = pad;
    const eos = id('eos_token');
    this.eosTokenIds = [
      ...new Set([...(eos === undefined ? [] : [eos]), ...(options.eosTokenIds ?? [])]),
    ];
    this.specialTokens = {
      bos_token: tokenContent(tokenizerConfig['bos_token']),
      eos_token: tokenContent(tokenizerConfig['eos_token']),
      pad_token: tokenContent(tokenizerConfig['pad_token']),
      unk_token: tokenContent(tokenizerConfig['unk_token']),
    };
    const postAddsBos =
      bos !== undefined && this.hf.encode('', { add_special_tokens: true }).ids[0] === bos;
    const configAdd = tokenizerConfig['add_bos_token'];
    const llamaBos =
      this.specialTokens['bos_token'] === '<|begin_of_text|>' ||
      this.specialTokens['bos_token'] === '<s>';
    this.prependBos =
      bos !== undefined &&
      !postAddsBos &&
      (options.addBosToken ?? (typeof configAdd === 'boolean' ? configAdd : llamaBos));
    const tpl = tokenizerConfig['chat_template'];
    if (typeof tpl === 'string') {
      try {
        this.template = new Template(tpl);
      } catch (cause) {
        throw new ModelError(
          'BAD_TOKENIZER',
          `tokenizer_config.json: chat_template does not parse: ${String(cause)}`,
          { cause },
        );
      }
    }
    this.templateVars = options.templateVars ?? {};
  }

  /** Id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const add = opts.addSpecialTokens ?? true;
    const ids = this.hf.encode(text, { add_special_tokens: add }).ids;
    // SIMPLIFICATION: unlike Python, never add a second BOS when the text already starts with one
    // (e.g. a rendered chat template); encode such text with addSpecialTokens: false to match HF.
    if (add && this.prependBos && ids[0] !== this.bosTokenId) return [this.bosTokenId!, ...ids];
    return ids;
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.hf.decode(ids, {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  encodeWithOffsets(text: string): { ids: number[]; offsets: [number, number][] } {
    const ids = this.hf.encode(text, { add_special_tokens: false }).ids;
    // Incremental detokenisation (as in text-generation-inference): decode a short window that starts
    // a few tokens back, so decoders that strip a leading space or hold partial UTF-8 bytes behave.
    const offsets: [number, number][] = [];
    let prefixOffset = 0;
    let readOffset = 0;
    let pos = 0;
    let pendingFrom = 0;
    for (let i = 0; i < ids.length; i++) {
      const prefixText = this.decode(ids.slice(prefixOffset, readOffset));
      const newText = this.decode(ids.slice(prefixOffset, i + 1));
      if (newText.length > prefixText.length && !newText.endsWith('\uFFFD')) {
        const chunk = newText.slice(prefixText.length);
        for (let j = pendingFrom; j <= i; j++) offsets[j] = [pos, pos + chunk.length];
        pos += chunk.length;
        pendingFrom = i + 1;
        prefixOffset = readOffset;
        readOffset = i + 1;
      } else if (newText.length === prefixText.length && !newText.endsWith('\uFFFD')) {
        offsets[i] = [pos, pos]; // token that renders as nothing
        pendingFrom = i + 1;
      }
    }
    for (let j = pendingFrom; j < ids.length; j++) offsets[j] = [pos, pos];
    if (pos !== text.length) {
      throw new ModelError(
        'BAD_TOKENIZER',
        `encodeWithOffsets: decoded text has ${pos} characters but the input has ${text.length}; ` +
          'this tokenizer does not round-trip text (normalizer?), so offsets are unavailable',
      );
    }
    return { ids, offsets };
  }

  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template) {
      throw new ModelError(
        'BAD_TOKENIZER',
        'tokenizer_config.json has no chat_template; add one or build prompts by hand',
      );
    }
    return this.template.render({
      ...this.specialTokens,
      ...this.templateVars,
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
    });
  }
}

/**
 * Map a character span [start, end) of the encoded text to the token range [startToken, endToken)
 * of the tokens that overlap it (zero-width tokens count only strictly inside the span).
 * @param offsets per-token [start, end) character offsets from `encodeWithOffsets`
 */
export function charSpanToTokenRange(
  offsets: [number, number][],
  span: [number, number],
): [number, number] {
  const [start, end] = span;
  if (!(start <= end))
    throw new ModelError(
      'BAD_ARGUMENT',
      `charSpanToTokenRange: span [${start}, ${end}) is reversed`,
    );
  let first = -1;
  let last = -1;
  for (let i = 0; i < offsets.length; i++) {
    const [s, e] = offsets[i]!;
    const overlaps = s === e ? s > start && s < end : s < end && e > start;
    if (overlaps) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) {
    let k = offsets.findIndex(([s]) => s >= end);
    if (k < 0) k = offsets.length;
    return [k, k];
  }
  return [first, last + 1];
}

/**
 * EOS ids named by a Hugging Face `generation_config.json` or `config.json` object
 * (`eos_token_id`: a number or a list); none for anything else.
 */
export function eosTokenIdsOf(json: unknown): number[] {
  const e = (json as Record<string, unknown> | null | undefined)?.['eos_token_id'];
  if (typeof e === 'number') return [e];
  if (Array.isArray(e)) return e.filter((x): x is number => typeof x === 'number');
  return [];
}
