// Word granularity for the token view: merges sub-word tokens into words so long CoTs read
// naturally. A token that starts with whitespace (or follows one that ends with it) starts a new
// word; words never cross a span boundary (CoT / delimiter / answer).
import type { SampleToken } from '@atmanrl/runs';

/** A displayed unit: one token, or a word made of consecutive tokens. */
export interface TokenGroup {
  text: string;
  /** Mean relevance of the grouped tokens that have one; `null` when none has. */
  relevance: number | null;
  span: SampleToken['span'];
  /** Indices of the grouped tokens in the sample's `tokens`. */
  tokenIndices: number[];
  /** Relevance of each grouped token (for the hover title). */
  tokenRelevances: (number | null)[];
}

function finish(tokens: readonly SampleToken[], indices: number[]): TokenGroup {
  const rels = indices.map((i) => tokens[i]!.relevance);
  const finite = rels.filter((r): r is number => r !== null && Number.isFinite(r));
  return {
    text: indices.map((i) => tokens[i]!.text).join(''),
    relevance: finite.length === 0 ? null : finite.reduce((a, b) => a + b, 0) / finite.length,
    span: tokens[indices[0]!]!.span,
    tokenIndices: indices,
    tokenRelevances: rels,
  };
}

/** One group per token (token granularity). */
export function groupTokens(tokens: readonly SampleToken[]): TokenGroup[] {
  return tokens.map((_, i) => finish(tokens, [i]));
}

/** Groups tokens into words (see file comment). Concatenated texts equal the original text. */
export function groupWords(tokens: readonly SampleToken[]): TokenGroup[] {
  const groups: TokenGroup[] = [];
  let current: number[] = [];
  tokens.forEach((tok, i) => {
    const prev = current.length > 0 ? tokens[current[current.length - 1]!]! : undefined;
    const startsWord =
      prev === undefined ||
      prev.span !== tok.span ||
      /^\s/.test(tok.text) ||
      /\s$/.test(prev.text) ||
      tok.text === '';
    if (startsWord && current.length > 0) {
      groups.push(finish(tokens, current));
      current = [];
    }
    current.push(i);
  });
  if (current.length > 0) groups.push(finish(tokens, current));
  return groups;
}
