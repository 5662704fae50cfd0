import { describe, expect, it } from 'vitest';
import { diffConfigs, flattenConfig } from './config-diff.js';

describe('config diff', () => {
  it('flattens nested objects to dotted keys, arrays stay leaves', () => {
    expect(flattenConfig({ a: 1, b: { c: 'x', d: { e: [1, 2] } }, f: {} })).toEqual({
      a: 1,
      'b.c': 'x',
      'b.d.e': [1, 2],
      f: {},
    });
  });

  it('keeps only differing keys, counts identical ones, marks absent keys', () => {
    const { rows, same } = diffConfigs([
      { lr: 1e-6, grpo: { G: 8, beta: 0 }, model: 'tiny' },
      { lr: 2e-6, grpo: { G: 8 }, model: 'tiny', extra: true },
    ]);
    expect(same).toBe(2); // grpo.G, model
    expect(rows).toEqual([
      { key: 'extra', values: ['—', 'true'] },
      { key: 'grpo.beta', values: ['0', '—'] },
      { key: 'lr', values: ['0.000001', '0.000002'] },
    ]);
  });

  it('tells the string "1" from the number 1', () => {
    expect(diffConfigs([{ a: '1' }, { a: 1 }]).rows).toHaveLength(1);
  });
});
