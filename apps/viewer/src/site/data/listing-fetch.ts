// A fetch wrapper for httpRunSource that answers "file not found" from the folder listings
// instead of the network, so optional files (samples.jsonl, checkpoints/latest.json, eval/) that
// a run does not have yet never produce 404 noise in the browser console. Listings are fetched
// once per folder until invalidate(): folder listing requests are answered from that cache.

/** Result of {@link listingAwareFetch}. */
export interface ListingAwareFetch {
  fetch: typeof fetch;
  /** Forgets cached listings (call before each live-refresh poll). */
  invalidate(): void;
}

interface Listing {
  names: Set<string>;
  /** The server's entries, as it sent them. */
  entries: unknown[];
}

/**
 * Wraps `inner` for requests under `baseUrl` (the runs root, ending in `/`). A file request is
 * sent only when every ancestor folder lists the next path segment; otherwise a synthetic 404 is
 * returned. Listing requests (`?list`) of folders their parent does not list get an empty listing.
 */
export function listingAwareFetch(baseUrl: string, inner: typeof fetch): ListingAwareFetch {
  const base = new URL(baseUrl).href;
  const cache = new Map<string, Promise<Listing | null>>();
  const getListing = (dir: string): Promise<Listing | null> => {
    let p = cache.get(dir);
    if (!p) {
      p = (async () => {
        if (dir !== '') {
          const cut = dir.lastIndexOf('/');
          const parent = cut < 0 ? '' : dir.slice(0, cut);
          const parentListing = await getListing(parent);
          if (!parentListing?.names.has(dir.slice(cut + 1))) return null;
        }
        const res = await inner(`${base}${dir === '' ? '' : `${encodePath(dir)}/`}?list`, {
          cache: 'no-store',
        });
        if (!res.ok) return null;
        const body = (await res.json()) as { entries?: { name: string }[] };
        const entries = body.entries ?? [];
        return { names: new Set(entries.map((e) => e.name)), entries };
      })();
      cache.set(dir, p);
    }
    return p;
  };
  const wrapped: typeof fetch = async (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!href.startsWith(base)) return inner(input, init);
    const rest = href.slice(base.length);
    const isList = rest.endsWith('?list');
    const path = decodePath(isList ? rest.slice(0, -'?list'.length) : rest).replace(/\/+$/, '');
    if (isList) {
      // From the cache (a folder its parent does not list gets an empty listing).
      const listing = await getListing(path);
      return new Response(JSON.stringify({ entries: listing?.entries ?? [] }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      });
    }
    if (path === '') return inner(input, init);
    const cut = path.lastIndexOf('/');
    const parent = await getListing(cut < 0 ? '' : path.slice(0, cut));
    if (!parent?.names.has(path.slice(cut + 1))) {
      return isList
        ? new Response('{"entries":[]}', {
            status: 200,
            headers: { 'Content-Type': 'application/json' },
          })
        : new Response('not found', { status: 404 });
    }
    // A follow-up read of a file that has not grown would be answered 416, which browsers log
    // as an error: ask for the size first (HEAD) and answer "nothing new" locally.
    const start = rangeStart(init?.headers);
    if (start !== null && start > 0) {
      const head = await inner(input, { ...init, method: 'HEAD', headers: {} });
      const size = Number(head.headers.get('Content-Length'));
      if (head.ok && Number.isFinite(size) && start >= size) {
        return new Response(null, { status: 416 });
      }
    }
    return inner(input, init);
  };
  return { fetch: wrapped, invalidate: () => cache.clear() };
}

function rangeStart(headers: HeadersInit | undefined): number | null {
  if (headers === undefined) return null;
  const range = new Headers(headers).get('Range');
  const m = range === null ? null : /^bytes=(\d+)-$/.exec(range);
  return m ? Number(m[1]) : null;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function decodePath(path: string): string {
  return path
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}
