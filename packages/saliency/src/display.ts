// Pairs CoT tokens with their text and relevance for display (viewer, CLI). Host-side only.
import { SaliencyError } from './errors.js';
import type { DisplayToken, SaliencyMap } from './types.js';

/** Anything that can decode ids to text (a @atmanrl/model Tokenizer qualifies). */
export interface TokenDecoder {
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
}

/**
 * Tokens of a saliency map with the text each one adds and its relevance.
 *
 * Text comes from decoding growing prefixes, so byte-level tokens that split a multi-byte
 * character are handled: the character is attributed to the token that completes it and the
 * earlier pieces get ''. Concatenating every `text` gives `decode(cotIds)`.
 *
 * @param map any saliency map of this package
 * @param decoder a tokenizer (only `decode` is used)
 * @throws SaliencyError `BAD_ARGUMENT` when `relevance` and `cotIds` differ in length
 * @example
 * ```ts
 * import { createTinyTokenizer } from '@atmanrl/model';
 * import { displayTokens } from '@atmanrl/saliency';
 * const tok = createTinyTokenizer(); // byte-level: one token per ASCII character
 * const cotIds = tok.encode('3*4=12', { addSpecialTokens: false });
 * const shown = displayTokens({ cotIds, relevance: [0, 0.1, 0, 0.9, 0.8, 0.2] }, tok);
 * console.log(shown.map((t) => `${t.text}:${t.relevance}`).join(' ')); // 3:0 *:0.1 4:0 =:0.9 1:0.8 2:0.2
 * ```
 */
export function displayTokens(
  map: Pick<SaliencyMap, 'cotIds' | 'relevance'>,
  decoder: TokenDecoder,
): DisplayToken[] {
  const { cotIds, relevance } = map;
  if (cotIds.length !== relevance.length) {
    throw new SaliencyError(
      'BAD_ARGUMENT',
      `displayTokens: ${cotIds.length} CoT ids but ${relevance.length} relevance values`,
    );
  }
  const out: DisplayToken[] = [];
  let committed = '';
  for (let j = 0; j < cotIds.length; j++) {
    const full = decoder.decode(cotIds.slice(0, j + 1), { skipSpecialTokens: false });
    const incomplete = full.endsWith('\uFFFD') && j + 1 < cotIds.length;
    let text = '';
    if (!incomplete && full.startsWith(committed)) {
      text = full.slice(committed.length);
      committed = full;
    }
    out.push({ id: cotIds[j]!, text, relevance: relevance[j]! });
  }
  return out;
}
