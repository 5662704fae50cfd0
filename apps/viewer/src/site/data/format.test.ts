import { describe, expect, it } from 'vitest';
import { formatNumber } from './format.js';

describe('formatNumber', () => {
  it('uses 4 significant digits, exponents for tiny and huge values', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(37.5467)).toBe('37.55');
    expect(formatNumber(1e-6)).toBe('1.0e-6');
    expect(formatNumber(-2.5e-5)).toBe('-2.5e-5');
    expect(formatNumber(123456)).toBe('1.2e5');
    expect(formatNumber(null)).toBe('—');
  });
});
