import { describe, expect, it } from 'vitest';
import { decodeRequestPath } from './request-path.js';

describe('decodeRequestPath', () => {
  it('decodes segments and drops empty ones', () => {
    expect(decodeRequestPath('/runs/my%20run//metrics.jsonl')).toEqual({
      ok: true,
      segments: ['runs', 'my run', 'metrics.jsonl'],
    });
    expect(decodeRequestPath('/')).toEqual({ ok: true, segments: [] });
  });
  it('refuses traversal in every spelling', () => {
    for (const p of [
      '/runs/../x',
      '/runs/./x',
      '/runs/%2e%2e/x',
      '/runs/%2E%2E/x',
      '/runs/.%2e/x',
      '/runs/..%2fetc',
      '/runs/..%5cetc',
      '/runs/a%00b',
    ]) {
      expect(decodeRequestPath(p)).toMatchObject({ ok: false, status: 403 });
    }
    expect(decodeRequestPath('/runs/%zz')).toMatchObject({ ok: false, status: 400 });
  });
});
