import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, type Route, rolloutsRoute } from './route.js';

describe('hash routes', () => {
  const routes: Route[] = [
    { page: 'runs' },
    { page: 'runs', dir: 'modes-arms' },
    { page: 'saliency', runId: 'job/r1', with: ['job/r2'] },
    { page: 'runs', dir: 'a b/c' },
    { page: 'overview', runId: 'a b/c', with: [] },
    { page: 'overview', runId: 'r1', with: ['r2', 'r,3'] },
    {
      page: 'rollouts',
      runId: 'r1',
      step: 10,
      prompt: 2,
      compare: 20,
      vs: 'job/r2',
      granularity: 'word',
      scale: 'symmetric',
      view: 'table',
    },
    rolloutsRoute('r1'),
    { ...rolloutsRoute('r1'), scale: 'fixed' },
    { page: 'eval', runId: 'r1', with: [] },
    { page: 'eval', runId: 'job/e1', with: ['job/e2', 'e,3'] },
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
