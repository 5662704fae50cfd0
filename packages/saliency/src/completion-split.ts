// The token-level split of a generated completion into CoT / delimiter / answer, the
// teacher-forced saliency item built from it (method.md §2.1), and each token's text for display.
// The one implementation: the trainer, eval, the `saliency` command and the viewer's tokens use it.
// Character ranges come from a text-level splitter (e.g. @atmanrl/datasets' splitCompletion).
import { SaliencyError } from './errors.js';
import type { SaliencyItem } from './types.js';

/** What the split needs of a tokenizer (a @atmanrl/model `Tokenizer` qualifies). */
export interface SplitTokenizer {
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Ids that end a completion (a final one is not part of the content). */
  readonly eosTokenIds: readonly number[];
}

/** Character ranges of a completion's text: `[start, end)`; `answerRange` null without a delimiter. */
export interface TextSplit {
  cotRange: readonly [number, number];
  answerRange: readonly [number, number] | null;
}

/**
 * A completion's tokens in three consecutive groups: CoT `[0, cotEnd)`, delimiter
 * `[cotEnd, answerStart)`, answer `[answerStart, n)` (n = `contentIds.length`).
 */
export interface CompletionSpans {
  /** Completion ids without a final EOS. */
  contentIds: number[];
  /** `decode(contentIds)` without special tokens. */
  text: string;
  /** `ends[i]`: character end of token i in `text` (non-decreasing). */
  ends: number[];
  /** Number of CoT tokens. */
  cotEnd: number;
  /** First answer token, or null when the completion has no delimiter (then all is CoT). */
  answerStart: number | null;
  /** Character where the answer starts in `text` (`text.length` without a delimiter). */
  answerChar: number;
}

/** Which group a token belongs to. */
export type SpanKind = 'cot' | 'delimiter' | 'answer' | 'other';

/** One token of a completion for display. */
export interface SpanToken {
  /** The text this token adds ('' for leading bytes of a multi-byte character). */
  text: string;
  span: SpanKind;
  /** Relevance for CoT tokens when a saliency map is given, else null. */
  relevance: number | null;
}

/**
 * Character end of each token: `ends[i]` = length of `decode(ids[0..i])`.
 *
 * Decoding growing prefixes is exact for every tokenizer (byte-level BPE tokens that hold part of
 * a multi-byte character, SentencePiece's leading-space rule), at O(n²) characters.
 * @example
 * ```ts
 * import { createTinyTokenizer } from '@atmanrl/model';
 * import { tokenTextEnds } from '@atmanrl/saliency';
 * const tok = createTinyTokenizer(); // byte-level: one token per ASCII character
 * console.log(tokenTextEnds(tok, tok.encode('2+2', { addSpecialTokens: false }))); // [1, 2, 3]
 * ```
 */
export function tokenTextEnds(tokenizer: Pick<SplitTokenizer, 'decode'>, ids: readonly number[]) {
  const ends: number[] = [];
  let last = 0;
  for (let i = 0; i < ids.length; i++) {
    const prefix = tokenizer.decode(ids.slice(0, i + 1), { skipSpecialTokens: true });
    // A trailing U+FFFD is an incomplete character that a later token completes: no text yet.
    const end = prefix.endsWith('\uFFFD') && i + 1 < ids.length ? last : prefix.length;
    last = Math.max(last, end);
    ends.push(last);
  }
  return ends;
}

/** Number of leading tokens whose text ends at or before `charEnd`. */
function tokensBefore(ends: readonly number[], charEnd: number): number {
  let n = 0;
  while (n < ends.length && ends[n]! <= charEnd) n++;
  return n;
}

/**
 * Splits generated ids at the CoT end and the answer start given by `split` (character ranges
 * of the decoded text). A token is CoT when its text ends within the CoT, or when it ends the CoT
 * and holds only whitespace past it (`.\n` before the delimiter); a token that merges CoT text
 * with the delimiter (`.####`) counts as delimiter, and one whose text reaches past the answer
 * start (`####5`) as answer. Without a delimiter the whole content is CoT.
 *
 * @param completionIds generated ids, EOS included when produced
 * @param split character ranges of `decode(completionIds)` (see @atmanrl/datasets' splitCompletion)
 * @example
 * ```ts
 * import { createTinyTokenizer } from '@atmanrl/model';
 * import { splitCompletionIds } from '@atmanrl/saliency';
 * const tok = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const text = '2+2=4. #### 4';
 * // the character split a task gives (e.g. @atmanrl/datasets' splitCompletion): CoT, then the answer
 * const spans = splitCompletionIds(tok, tok.encode(text, { addSpecialTokens: false }), {
 *   cotRange: [0, 6],
 *   answerRange: [12, 13],
 * });
 * console.log(spans.cotEnd, spans.answerStart); // 6 12: token indices of the CoT end and the answer
 * ```
 */
export function splitCompletionIds(
  tokenizer: SplitTokenizer,
  completionIds: readonly number[],
  split: TextSplit,
): CompletionSpans {
  const eos = new Set(tokenizer.eosTokenIds);
  const last = completionIds.length - 1;
  const contentIds = completionIds.filter((id, i) => !(i === last && eos.has(id)));
  const ends = tokenTextEnds(tokenizer, contentIds);
  const text = tokenizer.decode(contentIds, { skipSpecialTokens: true });
  const c = split.cotRange[1];
  let cotEnd = tokensBefore(ends, c);
  // A token that ends the CoT and carries only whitespace past it (BPE `.\n` before `####`) is CoT.
  if (cotEnd < ends.length && (cotEnd === 0 ? 0 : ends[cotEnd - 1]!) < c) {
    const tail = text.slice(c, ends[cotEnd]);
    if (tail.trim() === '') cotEnd++;
  }
  const answerStart =
    split.answerRange === null ? null : Math.max(cotEnd, tokensBefore(ends, split.answerRange[0]));
  const answerChar = split.answerRange === null ? text.length : split.answerRange[0];
  return { contentIds, text, ends, cotEnd, answerStart, answerChar };
}

/** Character start of token `i` (its predecessor's end). */
function charStart(spans: CompletionSpans, i: number): number {
  return i === 0 ? 0 : spans.ends[i - 1]!;
}

/**
 * The teacher-forced mask-fit item: prompt + the model's CoT + delimiter + gold answer
 * (method.md §2.1), built from the spans of the generated completion.
 *
 * The delimiter is the generated tokens between CoT and answer when they end exactly where the
 * answer starts. When the completion has no delimiter (`' ' + delimiter + ' '` is used), or a
 * token merges the delimiter with the answer (BPE `####5`, `' 5'`), the delimiter text and the
 * gold answer are encoded together and split where the delimiter text ends, so the gold tokens are
 * the ones the tokenizer would produce after that delimiter.
 *
 * @param promptIds the prompt's ids (at least one)
 * @param gold the gold answer text
 * @throws SaliencyError `BAD_ITEM` for an empty prompt or a gold answer that encodes to nothing
 * @example
 * ```ts
 * import { createTinyTokenizer } from '@atmanrl/model';
 * import { saliencyItemFromSpans, splitCompletionIds } from '@atmanrl/saliency';
 * const tok = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const ids = tok.encode('2+2=4. #### 4', { addSpecialTokens: false });
 * const spans = splitCompletionIds(tok, ids, { cotRange: [0, 6], answerRange: [12, 13] });
 * const item = saliencyItemFromSpans(tok, tok.encode('Q: 2+2?'), spans, '4', ' ####');
 * console.log(tok.decode([...item.cotIds]), '|', tok.decode([...item.goldAnswerIds])); // '2+2=4.' | ' 4'
 * ```
 */
export function saliencyItemFromSpans(
  tokenizer: SplitTokenizer,
  promptIds: readonly number[],
  spans: CompletionSpans,
  gold: string,
  delimiter: string,
): SaliencyItem {
  if (promptIds.length === 0)
    throw new SaliencyError('BAD_ITEM', 'saliencyItemFromSpans: the prompt has no tokens');
  const cotIds = spans.contentIds.slice(0, spans.cotEnd);
  const cotEndChar = charStart(spans, spans.cotEnd);
  let delimiterIds: number[] | null = null;
  let delimiterText = ` ${delimiter} `;
  if (spans.answerStart !== null) {
    const answerChar = spans.answerChar;
    delimiterText = spans.text.slice(cotEndChar, answerChar);
    const clean = spans.answerStart === 0 || spans.ends[spans.answerStart - 1] === answerChar;
    if (clean && spans.answerStart > spans.cotEnd)
      delimiterIds = spans.contentIds.slice(spans.cotEnd, spans.answerStart);
  }
  let goldAnswerIds: number[];
  if (delimiterIds !== null) {
    goldAnswerIds = tokenizer.encode(gold, { addSpecialTokens: false });
  } else {
    const tail = tokenizer.encode(delimiterText + gold, { addSpecialTokens: false });
    const k = tokensBefore(tokenTextEnds(tokenizer, tail), delimiterText.length);
    delimiterIds = tail.slice(0, k);
    goldAnswerIds = tail.slice(k);
  }
  if (goldAnswerIds.length === 0) {
    throw new SaliencyError(
      'BAD_ITEM',
      `saliencyItemFromSpans: the gold answer ${JSON.stringify(gold)} encodes to no tokens`,
    );
  }
  return { promptIds: [...promptIds], cotIds, delimiterIds, goldAnswerIds };
}

/**
 * Every content token with its text and group; CoT tokens carry `relevance[i]` when given.
 * Concatenating the texts gives `spans.text`.
 * @example
 * ```ts
 * import { createTinyTokenizer } from '@atmanrl/model';
 * import { spanTokens, splitCompletionIds } from '@atmanrl/saliency';
 * const tok = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const ids = tok.encode('1+1=2. #### 2', { addSpecialTokens: false });
 * const spans = splitCompletionIds(tok, ids, { cotRange: [0, 6], answerRange: [12, 13] });
 * const tokens = spanTokens(spans); // every token with its text and span; relevance null without a fit
 * console.log(tokens[0], tokens[12]); // { text: '1', span: 'cot', ... } { text: '2', span: 'answer', ... }
 * ```
 */
export function spanTokens(
  spans: CompletionSpans,
  relevance: readonly number[] | null = null,
): SpanToken[] {
  return spans.contentIds.map((_, i) => {
    const isCot = i < spans.cotEnd;
    const span: SpanKind = isCot
      ? 'cot'
      : spans.answerStart === null
        ? 'other'
        : i < spans.answerStart
          ? 'delimiter'
          : 'answer';
    return {
      text: spans.text.slice(charStart(spans, i), spans.ends[i]!),
      span,
      relevance: isCot && relevance ? (relevance[i] ?? null) : null,
    };
  });
}
