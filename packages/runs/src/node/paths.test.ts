import { describe, expect, it } from 'vitest';
import { resolveInside } from './paths.js';

describe('resolveInside', () => {
  it.each([
    ['run-1/run.json', '/r/runs/run-1/run.json'],
    ['', '/r/runs'],
    ['/run-1/metrics.jsonl', '/r/runs/run-1/metrics.jsonl'],
    ['a/../b', '/r/runs/b'],
  ])('accepts %s', (p, expected) => {
    expect(resolveInside('/r/runs', p)).toBe(expected);
  });

  it.each(['..', '../etc/passwd', 'a/../../x', 'run/\0x', '../runs-other/x'])('refuses %s', (p) => {
    expect(resolveInside('/r/runs', p)).toBeNull();
  });
});
