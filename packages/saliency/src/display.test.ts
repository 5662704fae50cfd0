import { createTinyTokenizer } from '@atmanrl/model';
import { describe, expect, it } from 'vitest';
import { displayTokens } from './display.js';

describe('displayTokens', () => {
  const tok = createTinyTokenizer();
  it('gives each byte-level token its text; a multi-byte character goes to its last byte', () => {
    const ids = tok.encode('a é!', { addSpecialTokens: false }); // é is 2 bytes
    expect(ids).toHaveLength(5);
    const relevance = [0.1, 0.2, 0.3, 0.4, 0.5];
    const out = displayTokens({ cotIds: ids, relevance }, tok);
    expect(out.map((t) => t.text)).toEqual(['a', ' ', '', 'é', '!']);
    expect(out.map((t) => t.text).join('')).toBe('a é!');
    expect(out.map((t) => t.relevance)).toEqual(relevance);
    expect(out.map((t) => t.id)).toEqual(ids);
  });
  it('rejects mismatched lengths', () => {
    expect(() => displayTokens({ cotIds: [1, 2], relevance: [0] }, tok)).toThrow(/2 CoT ids but 1/);
  });
});
