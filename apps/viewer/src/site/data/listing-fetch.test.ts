import { describe, expect, it } from 'vitest';
import { listingAwareFetch } from './listing-fetch.js';

const BASE = 'http://viewer.test/runs/';

/** A fake server: folders and file sizes; records every request. */
function fakeServer(tree: Record<string, string[]>, files: Record<string, string>) {
  const calls: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(`${init?.method ?? 'GET'} ${url.slice(BASE.length)}`);
    const rest = url.slice(BASE.length);
    if (rest.endsWith('?list')) {
      const dir = rest.slice(0, -5).replace(/\/$/, '');
      const names = tree[dir];
      if (!names) return new Response('', { status: 404 });
      return Response.json({ entries: names.map((name) => ({ name, type: 'file' })) });
    }
    const text = files[decodeURIComponent(rest)];
    if (text === undefined) return new Response('', { status: 404 });
    const range = new Headers(init?.headers).get('Range');
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    if (start >= text.length && range) return new Response('', { status: 416 });
    return new Response(init?.method === 'HEAD' ? null : text.slice(start), {
      status: range ? 206 : 200,
      headers: { 'Content-Length': String(text.length) },
    });
  }) as typeof fetch;
  return { fetchFn, calls };
}

describe('listingAwareFetch', () => {
  const { fetchFn, calls } = fakeServer(
    { '': ['run'], run: ['run.json', 'eval'], 'run/eval': [] },
    { 'run/run.json': '{"x":1}' },
  );
  const wrapped = listingAwareFetch(BASE, fetchFn);

  it('answers missing files from the listings without asking the server for them', async () => {
    const res = await wrapped.fetch(`${BASE}run/samples.jsonl`);
    expect(res.status).toBe(404);
    expect(calls.some((c) => c.includes('samples.jsonl'))).toBe(false);
    const missingDir = await wrapped.fetch(`${BASE}run/checkpoints/latest.json`);
    expect(missingDir.status).toBe(404);
    expect(calls.some((c) => c.includes('checkpoints'))).toBe(false);
  });

  it('passes existing files through and lists unknown folders as empty', async () => {
    expect(await (await wrapped.fetch(`${BASE}run/run.json`)).text()).toBe('{"x":1}');
    const list = await wrapped.fetch(`${BASE}run/checkpoints/?list`);
    expect(await list.json()).toEqual({ entries: [] });
  });

  it('answers "nothing new" for a range read at the end of the file without a 416 request', async () => {
    calls.length = 0;
    const res = await wrapped.fetch(`${BASE}run/run.json`, { headers: { Range: 'bytes=7-' } });
    expect(res.status).toBe(416);
    expect(calls).toEqual(['HEAD run/run.json']);
    const grown = await wrapped.fetch(`${BASE}run/run.json`, { headers: { Range: 'bytes=2-' } });
    expect(await grown.text()).toBe('x":1}');
  });

  it('fetches each folder listing once, however often it is listed', async () => {
    calls.length = 0;
    wrapped.invalidate();
    for (let i = 0; i < 3; i++) {
      const res = await wrapped.fetch(`${BASE}run/?list`);
      expect(await res.json()).toEqual({
        entries: [
          { name: 'run.json', type: 'file' },
          { name: 'eval', type: 'file' },
        ],
      });
    }
    expect(calls).toEqual(['GET ?list', 'GET run/?list']);
  });

  it('re-reads listings after invalidate()', async () => {
    calls.length = 0;
    await wrapped.fetch(`${BASE}run/run.json`);
    expect(calls.filter((c) => c.includes('?list'))).toHaveLength(0); // cached
    wrapped.invalidate();
    await wrapped.fetch(`${BASE}run/run.json`);
    expect(calls.filter((c) => c.includes('?list')).length).toBeGreaterThan(0);
  });
});
