// Where run files come from: an abstract file reader, so the same reader code runs in Node
// (see `@atmanrl/runs/node`) and in the browser (over HTTP, below). No `fs` here.

/** A directory entry returned by {@link RunSource.list}. */
export interface SourceEntry {
  name: string;
  type: 'file' | 'directory';
}

/** Read-only access to a folder of runs. Paths are `/`-separated and relative to the root. */
export interface RunSource {
  /** Whole file as text, or `null` when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Bytes from `start` to the end as text (for incremental JSONL reads), or `null` if missing. */
  readFrom(path: string, start: number): Promise<string | null>;
  /** Entries of a folder (empty when it does not exist). */
  list(path: string): Promise<SourceEntry[]>;
  /** Optional byte stream of a file, for large files. */
  stream?(path: string): Promise<ReadableStream<Uint8Array> | null>;
}

/**
 * A {@link RunSource} over HTTP, as served by `atmanrl view`: `GET <base>/<path>` returns a file
 * (honouring `Range: bytes=N-`), and `GET <base>/<path>/?list` returns
 * `{ "entries": [{ "name": "...", "type": "file" | "directory" }] }`.
 * A static export serves the same listing from `<path>/index.json`.
 */
export function httpRunSource(
  baseUrl: string,
  options: { fetch?: typeof fetch; listing?: 'query' | 'index-json' } = {},
): RunSource {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const url = (path: string) => base + path.split('/').map(encodeURIComponent).join('/');
  return {
    async readText(path) {
      const res = await doFetch(url(path), { cache: 'no-store' });
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`GET ${path} failed: HTTP ${res.status}`);
      return res.text();
    },
    async readFrom(path, start) {
      const res = await doFetch(url(path), {
        cache: 'no-store',
        headers: start > 0 ? { Range: `bytes=${start}-` } : {},
      });
      if (res.status === 404) return null;
      if (res.status === 416) return '';
      if (!res.ok) throw new Error(`GET ${path} failed: HTTP ${res.status}`);
      const text = await res.text();
      // A server that ignores Range returns the whole file: cut it ourselves.
      if (start > 0 && res.status === 200) {
        return new TextDecoder().decode(new TextEncoder().encode(text).slice(start));
      }
      return text;
    },
    async list(path) {
      const dir = path === '' ? '' : `${path.replace(/\/$/, '')}/`;
      const target =
        options.listing === 'index-json' ? `${url(dir)}index.json` : `${url(dir)}?list`;
      const res = await doFetch(target, { cache: 'no-store' });
      if (res.status === 404) return [];
      if (!res.ok) throw new Error(`listing ${path || '/'} failed: HTTP ${res.status}`);
      const body = (await res.json()) as { entries?: SourceEntry[] };
      return body.entries ?? [];
    },
    async stream(path) {
      const res = await doFetch(url(path), { cache: 'no-store' });
      if (res.status === 404 || res.body === null) return null;
      if (!res.ok) throw new Error(`GET ${path} failed: HTTP ${res.status}`);
      return res.body;
    },
  };
}
