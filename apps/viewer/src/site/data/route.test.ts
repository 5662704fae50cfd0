import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route } from './route.js';

describe('hash routes', () => {
  const routes: Route[] = [
    { page: 'runs' },
    { page: 'overview', runId: 'a b/c', with: [] },
    { page: 'overview', runId: 'r1', with: ['r2', 'r,3'] },
    { page: 'rollouts', runId: 'r1', step: 10, prompt: 2, compare: 20, granularity: 'word' },
    {
      page: 'rollouts',
      runId: 'r1',
      step: null,
      prompt: null,
      compare: null,
      granularity: 'token',
    },
    { page: 'eval', runId: 'r1' },
  ];
  it('round-trips every page', () => {
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r);
  });
  it('falls back to the runs list and ignores bad numbers', () => {
    expect(parseRoute('')).toEqual({ page: 'runs' });
    expect(parseRoute('#/nowhere')).toEqual({ page: 'runs' });
    expect(parseRoute('#/run/%E0%A4%A')).toEqual({ page: 'runs' });
    expect(parseRoute('#/run/x/rollouts?step=-1&prompt=abc')).toMatchObject({
      step: null,
      prompt: null,
    });
  });
});
