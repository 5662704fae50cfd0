import { describe, expect, it } from 'vitest';
import { findNumbers, normalizeNumber, numbersEqual } from './numbers.js';

describe('normalizeNumber', () => {
  it.each([
    ['18', '18'],
    ['18.0', '18'],
    ['18.00', '18'],
    ['018', '18'],
    ['1,234', '1234'],
    ['1,234,567.50', '1234567.5'],
    ['$18', '18'],
    ['$1,000.', '1000'],
    ['-$5', '-5'],
    ['$-5', '-5'],
    ['\u22127', '-7'],
    ['50%', '50'],
    ['0.50', '0.5'],
    ['.5', '0.5'],
    ['-0', '0'],
    ['-0.0', '0'],
    ['  42  ', '42'],
    ['+3', '3'],
  ])('%j -> %j', (raw, want) => {
    expect(normalizeNumber(raw)).toBe(want);
  });

  it.each(['', 'abc', '1/2', '12a', '1,23', '.', '--'])('rejects %j', (raw) => {
    expect(normalizeNumber(raw)).toBeNull();
  });

  it('numbersEqual treats 18.0 and 18 alike and rejects non-numbers', () => {
    expect(numbersEqual('18.0', '$18')).toBe(true);
    expect(numbersEqual('18.5', '18')).toBe(false);
    expect(numbersEqual('x', 'x')).toBe(false);
  });
});

describe('findNumbers', () => {
  it('reads a hyphen glued to a word as a hyphen, not a minus sign', () => {
    expect(findNumbers('in 2021-22 it was -5').map((n) => n.raw)).toEqual(['2021', '22', '-5']);
  });
  it('keeps thousands groups together and splits lists', () => {
    expect(findNumbers('1,000 and 3, 4').map((n) => n.raw)).toEqual(['1,000', '3', '4']);
  });
});
