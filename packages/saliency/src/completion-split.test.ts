import { describe, expect, it } from 'vitest';
import {
  type SplitTokenizer,
  saliencyItemFromSpans,
  spanTokens,
  splitCompletionIds,
  tokenTextEnds,
} from './completion-split.js';

/**
 * A hand-made BPE-like tokenizer: greedy longest match over a fixed vocabulary, so merges such as
 * `####5`, `.####` and ` 5` happen exactly where the test says. Id = index in VOCAB; EOS = 99.
 */
const VOCAB = [
  ' ####',
  '####5',
  '.####',
  ' 5',
  '5',
  '.',
  ' ',
  '2',
  '+',
  '3',
  '=',
  '####',
  'é',
  '.\n',
  '\n',
];
const EOS = 99;
const fake: SplitTokenizer = {
  eosTokenIds: [EOS],
  decode: (ids, o) =>
    ids.map((id) => (id === EOS ? (o?.skipSpecialTokens ? '' : '<eos>') : VOCAB[id]!)).join(''),
  encode: (text) => {
    const ids: number[] = [];
    let i = 0;
    while (i < text.length) {
      let best = -1;
      VOCAB.forEach((v, id) => {
        if (text.startsWith(v, i) && (best < 0 || v.length > VOCAB[best]!.length)) best = id;
      });
      if (best < 0) throw new Error(`no token for ${JSON.stringify(text.slice(i))}`);
      ids.push(best);
      i += VOCAB[best]!.length;
    }
    return ids;
  },
};
/** The datasets splitter's ranges for `####` (CoT trimmed, answer after whitespace). */
const textSplit = (text: string) => {
  const at = text.indexOf('####');
  if (at < 0) return { cotRange: [0, text.trimEnd().length] as const, answerRange: null };
  let a = at + 4;
  while (text[a] === ' ') a++;
  return {
    cotRange: [0, text.slice(0, at).trimEnd().length] as const,
    answerRange: [a, text.length] as const,
  };
};
const spansOf = (ids: number[]) => {
  const text = fake.decode(ids, { skipSpecialTokens: true });
  return splitCompletionIds(fake, ids, textSplit(text));
};
const ids = (text: string) => fake.encode(text);

describe('splitCompletionIds', () => {
  it('splits clean tokens: CoT, delimiter (with the space before the answer), answer; drops EOS', () => {
    const s = spansOf([...ids('2+3=5. #### 5'), EOS]);
    expect(s.text).toBe('2+3=5. #### 5');
    expect(s.contentIds).toEqual(ids('2+3=5. #### 5'));
    // tokens: 2 + 3 = 5 . ' ####' ' 5'  -> greedy takes ' 5' as one token
    expect(s.cotEnd).toBe(6);
    expect(s.answerStart).toBe(7);
    expect(spanTokens(s).map((t) => `${t.span}:${t.text}`)).toEqual([
      'cot:2',
      'cot:+',
      'cot:3',
      'cot:=',
      'cot:5',
      'cot:.',
      'delimiter: ####',
      'answer: 5',
    ]);
  });

  it('gives a token that merges the CoT end with the delimiter to the delimiter', () => {
    const s = spansOf(ids('2+3=5.#### 5'));
    expect(spanTokens(s).map((t) => t.span)).toEqual([
      'cot',
      'cot',
      'cot',
      'cot',
      'cot',
      'delimiter',
      'answer',
    ]);
  });

  it('keeps a CoT-final token whose extra text is only whitespace in the CoT (Llama-3 `.\\n`)', () => {
    const s = spansOf(ids('2+3=5.\n#### 5'));
    // tokens: 2 + 3 = 5 '.\n' '####' ' 5'; the datasets splitter ends the CoT after '.'
    expect(spanTokens(s).map((t) => `${t.span}:${JSON.stringify(t.text)}`)).toEqual([
      'cot:"2"',
      'cot:"+"',
      'cot:"3"',
      'cot:"="',
      'cot:"5"',
      'cot:".\\n"',
      'delimiter:"####"',
      'answer:" 5"',
    ]);
  });

  it('gives a token that merges the delimiter with the answer to the answer', () => {
    const s = spansOf(ids('2+3=5####5'));
    // tokens: 2 + 3 = 5 '####5'
    expect(s.cotEnd).toBe(5);
    expect(s.answerStart).toBe(5);
    expect(spanTokens(s).at(-1)).toEqual({ text: '####5', span: 'answer', relevance: null });
  });

  it('without a delimiter everything is CoT and relevance goes to CoT tokens only', () => {
    const s = spansOf(ids('2+3=5'));
    expect(s.answerStart).toBeNull();
    expect(spanTokens(s, [0.1, 0.2, 0.3, 0.4, 0.5]).map((t) => t.relevance)).toEqual([
      0.1, 0.2, 0.3, 0.4, 0.5,
    ]);
  });
});

describe('saliencyItemFromSpans', () => {
  it('reuses the generated delimiter when it ends where the answer starts', () => {
    const s = spansOf(ids('2+3=5. #### 5'));
    // ' 5' straddles the answer start (the space belongs to the delimiter text): re-encoded
    const item = saliencyItemFromSpans(fake, [7], s, '5', '####');
    expect(item.cotIds).toEqual(ids('2+3=5.'));
    expect(fake.decode([...item.delimiterIds])).toBe(' ####');
    expect(fake.decode([...item.goldAnswerIds])).toBe(' 5');
    const clean = spansOf([...ids('2+3=5. ####'), ...ids(' '), ...ids('5')]);
    const item2 = saliencyItemFromSpans(fake, [7], clean, '5', '####');
    expect(item2.delimiterIds).toEqual([...ids(' ####'), ...ids(' ')]);
    expect(item2.goldAnswerIds).toEqual(ids('5'));
  });

  it('re-encodes a delimiter merged into the answer token, and a missing one', () => {
    const merged = saliencyItemFromSpans(fake, [7], spansOf(ids('2+3=5####5')), '5', '####');
    expect(merged.cotIds).toEqual(ids('2+3=5'));
    expect(merged.delimiterIds).toEqual([]);
    expect(fake.decode([...merged.goldAnswerIds])).toBe('####5');
    const missing = saliencyItemFromSpans(fake, [7], spansOf(ids('2+3=5.')), '5', '####');
    expect(fake.decode([...missing.delimiterIds])).toBe(' ####');
    expect(fake.decode([...missing.goldAnswerIds])).toBe(' 5');
  });

  it('rejects an empty prompt and an empty gold answer', () => {
    const s = spansOf(ids('2+3=5. #### 5'));
    expect(() => saliencyItemFromSpans(fake, [], s, '5', '####')).toThrow(/prompt has no tokens/);
    const clean = spansOf([...ids('2+3=5. ####'), ...ids(' '), ...ids('5')]);
    expect(() => saliencyItemFromSpans(fake, [1], clean, '', '####')).toThrow(
      /encodes to no tokens/,
    );
  });
});

describe('tokenTextEnds', () => {
  it('attributes a multi-byte character to the token that completes it', () => {
    const bytes: SplitTokenizer = {
      eosTokenIds: [],
      encode: () => [],
      // ids 0/1 are the two UTF-8 bytes of 'é'; decode of a lone first byte gives U+FFFD
      decode: (xs) => Buffer.from(xs.map((x) => [0xc3, 0xa9, 0x61][x]!)).toString('utf8'),
    };
    expect(tokenTextEnds(bytes, [2, 0, 1, 2])).toEqual([1, 1, 2, 3]);
  });
});
