// Where the site reads runs from: the data embedded by a static export (data.js), or the viewer
// server's `/runs/` over HTTP (with live refresh).
import { httpRunSource, type RunSource } from '@atmanrl/runs';
import { EXPORT_GLOBAL, type ExportData } from '../server/export-data.js';
import { embeddedRunSource } from './data/embedded-source.js';
import { listingAwareFetch } from './data/listing-fetch.js';

/** The site's data source. */
export interface SiteSource {
  source: RunSource;
  /** True when served live (poll for new lines); false for static exports. */
  live: boolean;
  /** The exported run's id in a static export. */
  exportedRunId: string | null;
  /** Forgets cached folder listings (before a live refresh). */
  invalidate(): void;
  /**
   * The first `bytes` bytes of a file (fewer when it is shorter; a multi-byte character cut at
   * the end is dropped), or `null` when it does not exist. Over HTTP this is one Range request.
   */
  readHead(path: string, bytes: number): Promise<string | null>;
}

/** Picks the embedded export data when present, else the server next to the page. */
export function createSiteSource(): SiteSource {
  const embedded = (globalThis as Record<string, unknown>)[EXPORT_GLOBAL] as ExportData | undefined;
  if (embedded) {
    const source = embeddedRunSource(embedded);
    return {
      source,
      live: false,
      exportedRunId: embedded.runId,
      invalidate() {},
      readHead: (path, bytes) =>
        source.readText(path).then((t) => (t === null ? null : t.slice(0, bytes))),
    };
  }
  const base = new URL('runs/', window.location.href).href;
  const wrapped = listingAwareFetch(base, globalThis.fetch.bind(globalThis));
  const url = (path: string) => base + path.split('/').map(encodeURIComponent).join('/');
  return {
    source: httpRunSource(base, { fetch: wrapped.fetch }),
    live: true,
    exportedRunId: null,
    invalidate: wrapped.invalidate,
    async readHead(path, bytes) {
      const res = await wrapped.fetch(url(path), {
        cache: 'no-store',
        headers: { Range: `bytes=0-${Math.max(0, bytes - 1)}` },
      });
      if (res.status === 404) return null;
      if (res.status === 416) return '';
      if (!res.ok) throw new Error(`GET ${path} failed: HTTP ${res.status}`);
      // A cut multi-byte character decodes to U+FFFD at the very end: drop it.
      return (await res.text()).replace(/\uFFFD$/, '');
    },
  };
}
