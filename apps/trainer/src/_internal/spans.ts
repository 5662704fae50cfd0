// Maps a completion's character spans (CoT, delimiter, answer) onto its generated token ids and
// builds the teacher-forced saliency item P + C + delimiter + gold (method.md §2.1).

import type { CompletionSplit } from '@atmanrl/datasets';
import type { Tokenizer } from '@atmanrl/model';
import type { SampleToken } from '@atmanrl/runs';
import type { SaliencyItem } from '@atmanrl/saliency';

/** Character end offset of each token: `ends[i]` = length of decode(ids[0..i]). */
export function tokenCharEnds(tokenizer: Tokenizer, ids: readonly number[]): number[] {
  const ends: number[] = [];
  // Decoding growing prefixes is O(n²) in characters but exact for byte-level BPE, where a
  // single token may hold part of a multi-byte character.
  for (let i = 0; i < ids.length; i++)
    ends.push(tokenizer.decode(ids.slice(0, i + 1), { skipSpecialTokens: true }).length);
  return ends;
}

/** Number of leading tokens whose text ends at or before `charEnd`. */
export function tokensBefore(ends: readonly number[], charEnd: number): number {
  let n = 0;
  while (n < ends.length && (ends[n] ?? 0) <= charEnd) n++;
  return n;
}

/** The completion split into token groups, plus the saliency item with the gold answer. */
export interface CompletionTokens {
  cotIds: number[];
  delimiterIds: number[];
  /** Token index where the answer span starts (= cot + delimiter tokens), or null (no delimiter). */
  answerStart: number | null;
  /** Completion ids without a final EOS, and their decoded text. */
  content: number[];
  text: string;
  /** `ends[i]` = character end of token i in `text`. */
  ends: number[];
}

/**
 * Splits generated ids at the CoT end and the answer start (character ranges from the datasets
 * splitter). Without a delimiter, the whole completion (minus EOS) is the CoT.
 */
export function splitCompletionTokens(
  tokenizer: Tokenizer,
  ids: readonly number[],
  split: Pick<CompletionSplit, 'cotRange' | 'answerRange'>,
): CompletionTokens {
  const cotEndChar = split.cotRange[1];
  const answerStartChar = split.answerRange ? split.answerRange[0] : null;
  const eos = new Set(tokenizer.eosTokenIds);
  const content = ids.filter((id, i) => !(i === ids.length - 1 && eos.has(id)));
  const ends = tokenCharEnds(tokenizer, content);
  const text = tokenizer.decode(content, { skipSpecialTokens: true });
  const nCot = tokensBefore(ends, cotEndChar);
  if (answerStartChar === null) {
    return {
      cotIds: content.slice(0, nCot),
      delimiterIds: [],
      answerStart: null,
      content,
      text,
      ends,
    };
  }
  const nBeforeAnswer = Math.max(nCot, tokensBefore(ends, answerStartChar));
  return {
    cotIds: content.slice(0, nCot),
    delimiterIds: content.slice(nCot, nBeforeAnswer),
    answerStart: nBeforeAnswer,
    content,
    text,
    ends,
  };
}

/** Builds the teacher-forced item: prompt + the model's CoT + delimiter + gold answer. */
export function saliencyItem(
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  split: CompletionTokens,
  gold: string,
  delimiter: string,
): SaliencyItem {
  const delimiterIds =
    split.delimiterIds.length > 0
      ? split.delimiterIds
      : tokenizer.encode(` ${delimiter} `, { addSpecialTokens: false });
  return {
    promptIds: [...promptIds],
    cotIds: split.cotIds,
    delimiterIds,
    goldAnswerIds: tokenizer.encode(gold, { addSpecialTokens: false }),
  };
}

/** Display tokens of a whole completion: CoT tokens carry relevance, the rest `null`. */
export function displayCompletion(
  split: CompletionTokens,
  relevance: readonly number[] | null,
): SampleToken[] {
  let prev = 0;
  return split.content.map((_, i) => {
    const end = split.ends[i] ?? prev;
    const text = split.text.slice(prev, end);
    prev = end;
    const isCot = i < split.cotIds.length;
    const span: SampleToken['span'] = isCot
      ? 'cot'
      : split.answerStart === null
        ? 'other'
        : i < split.answerStart
          ? 'delimiter'
          : 'answer';
    return { text, relevance: isCot && relevance ? (relevance[i] ?? null) : null, span };
  });
}
