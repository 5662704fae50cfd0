import { describe, expect, it } from 'vitest';
import { readPrefixMembers } from './partial-json.js';

describe('readPrefixMembers', () => {
  const full = JSON.stringify({
    version: 1,
    name: 'e "x" {y}',
    dataset: { name: 'd', split: 't', seed: 0 },
    summary: { 'pass@1': 0.5, items: 60, bad: null },
    curves: [{ name: 'c', x: [0, 1], y: [1, 0] }],
    items: [{ id: 'a]' }],
  });
  it('reads the whole object when complete', () => {
    expect(readPrefixMembers(full)).toEqual({ values: JSON.parse(full), complete: true });
  });
  it('stops at the first member cut off, for every cut point', () => {
    const obj = JSON.parse(full) as Record<string, unknown>;
    const keys = Object.keys(obj);
    for (let cut = 1; cut < full.length; cut++) {
      const { values, complete } = readPrefixMembers(full.slice(0, cut));
      expect(complete).toBe(false);
      const got = Object.keys(values);
      // a prefix of the keys, each value exactly the original
      expect(got).toEqual(keys.slice(0, got.length));
      for (const k of got) expect(values[k]).toEqual(obj[k]);
      // the summary is read as soon as its closing brace is inside the prefix
      const summaryEnd = full.indexOf('},"curves"') + 1;
      if (cut > summaryEnd) expect(values.summary).toEqual(obj.summary);
    }
  });
  it('rejects text that is not an object', () => {
    expect(() => readPrefixMembers('[1,2]')).toThrow(SyntaxError);
    expect(() => readPrefixMembers('{"a" 1}')).toThrow(SyntaxError);
  });
});
